import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { before, describe, it } from "node:test";
import { uploadBlobName } from "../../shared/registry/blob-names.js";
import { useAzurite } from "../helpers/azurite.js";
import { sha256 } from "../helpers/content.js";
import { bytes, patchChunk, startUpload } from "../protocol/support.js";
import { blobStatus, lifecycleApp, pushImageOf, type LifecycleApp } from "./support.js";

const HOUR = 3600_000;

/**
 * Upload bytes nothing owns (no index row serves them, no session holds them) are collected
 * once they are older than the upload TTL plus the grace period; indexed bytes, bytes of
 * sessions that still exist and young bytes stay.
 */
describe("Garbage collection: orphaned upload bytes", () => {
  const azurite = useAzurite();
  let app: LifecycleApp;
  let clock: { ahead: number };

  before(async () => {
    ({ app, clock } = await lifecycleApp(azurite().connectionString, {
      STOWAGE_GC_GRACE: "1h",
      STOWAGE_UPLOAD_TTL_SECONDS: "60",
    }));
  });

  it("deletes only old bytes that no index row and no session owns; a dry run lists them", async () => {
    // bytes written by a process that died before indexing them
    const crashed = uploadBlobName(randomBytes(16).toString("hex"));
    await app.storage.registry.blobs.put(crashed, bytes("bytes of a crashed upload"));
    // a session whose row went away under a PATCH that had already written its bytes
    const cancelled = await startUpload(app, "orphans/a");
    assert.equal((await patchChunk(app, cancelled, bytes("patched, then cancelled"), 0)).status, 202);
    const cancelledId = idOf(cancelled);
    const session = await app.storage.registry.metadata.getUpload("orphans/a", cancelledId);
    assert.ok(session);
    await app.storage.registry.metadata.deleteUpload(session);
    // owned: an indexed blob, and a session that is still there (expired by then, not yet purged)
    await pushImageOf(app, "orphans/a", "v1", ["orphans config", "an indexed blob"]); // referenced: the sweep keeps it
    const open = await startUpload(app, "orphans/a");
    assert.equal((await patchChunk(app, open, bytes("an open session"), 0)).status, 202);
    const orphans = [crashed, uploadBlobName(cancelledId)].sort();

    const young = await app.lifecycle.collectGarbage({ dryRun: true });
    assert.equal(young.orphanedBytes.count, 0, "younger than the upload TTL plus the grace period");

    clock.ahead = 2 * HOUR;
    const dry = await app.lifecycle.collectGarbage({ dryRun: true });
    assert.deepEqual([...dry.orphanedBytes.blobNames].sort(), orphans);
    assert.equal(dry.orphanedBytes.bytes, "bytes of a crashed upload".length + "patched, then cancelled".length);
    assert.equal(dry.uploads.count, 1, "the open session's bytes are the uploads pass's, not orphans");
    const kept = await uploadBytes(app);
    for (const name of [...orphans, uploadBlobName(idOf(open))]) assert.ok(kept.includes(name), `dry run kept ${name}`);

    const report = await app.lifecycle.collectGarbage();
    assert.equal(report.orphanedBytes.count, 2);
    assert.deepEqual(report.orphanedBytes.blobNames, [], "only a dry run lists names");
    const left = await uploadBytes(app);
    for (const orphan of orphans) assert.ok(!left.includes(orphan), `${orphan} deleted`);
    assert.equal(await blobStatus(app, "orphans/a", sha256("an indexed blob")), 200);
    assert.equal(await blobStatus(app, "orphans/a", sha256("orphans config")), 200);

    assert.equal((await app.lifecycle.collectGarbage()).orphanedBytes.count, 0, "nothing more on a rerun");
  });
});

/** The upload id at the end of a session's Location path. */
function idOf(location: string): string {
  return new URL(location, "http://registry").pathname.split("/").pop() as string;
}

/** Every name under blobs/ in the container. */
async function uploadBytes(app: LifecycleApp): Promise<string[]> {
  const names: string[] = [];
  for await (const page of app.storage.collection.bytesPages("blobs/", "9999"))
    names.push(...page.map((b) => b.blobName));
  return names.sort();
}
