import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { BlobSweeper } from "../../shared/registry/blob-sweeper.js";
import type { CollectionStore } from "../../shared/storage/ports/collection-store.js";
import { useAzurite } from "../helpers/azurite.js";
import { imageManifest, sha256 } from "../helpers/content.js";
import { assertError, OCI_MANIFEST, pushBlob } from "../protocol/support.js";
import {
  blobStatus,
  deleteManifest,
  indexed,
  lifecycleApp,
  manifestStatus,
  pushImageOf,
  pushIndex,
  type LifecycleApp,
} from "./support.js";

const HOUR = 3600_000;

/** The online sweep deletes exactly the blobs no manifest references, with their links and index rows. */
describe("Garbage collection: the blob sweep", () => {
  const azurite = useAzurite();
  let app: LifecycleApp;
  let clock: { ahead: number };

  before(async () => {
    ({ app, clock } = await lifecycleApp(azurite().connectionString, { STOWAGE_GC_GRACE: "1h" }));
  });

  it("collects the unshared layers of a deleted manifest and keeps shared and cross-repository ones", async () => {
    const doomed = await pushImageOf(app, "sweep/a", "old", ["config a", "shared layer", "only in a"]);
    await pushImageOf(app, "sweep/a", "new", ["config a2", "shared layer"]);
    await pushImageOf(app, "sweep/b", "other", ["config b", "only in a"]); // the same bytes, another repository
    await deleteManifest(app, "sweep/a", doomed);
    const onlyInA = sha256("config a");

    const dry = await app.lifecycle.collectGarbage({ dryRun: true });
    assert.equal(dry.sweep.blobs.count, 0, "everything is younger than the grace period");
    clock.ahead = 2 * HOUR;

    const preview = await app.lifecycle.collectGarbage({ dryRun: true });
    assert.equal(preview.sweep.blobs.count, 1, JSON.stringify(preview));
    assert.equal(preview.sweep.blobs.bytes, Buffer.byteLength("config a"));
    assert.ok(await indexed(app, onlyInA), "a dry run deletes nothing");
    assert.equal(await blobStatus(app, "sweep/a", onlyInA), 200);

    const report = await app.lifecycle.collectGarbage();
    assert.equal(report.sweep.blobs.count, 1);
    assert.equal(report.sweep.links, 1);
    assert.equal(await indexed(app, onlyInA), false);
    assert.equal(await blobStatus(app, "sweep/a", onlyInA), 404);
    assert.equal(await blobStatus(app, "sweep/a", sha256("shared layer")), 200);
    assert.equal(await blobStatus(app, "sweep/b", sha256("only in a")), 200, "kept: sweep/b references it");
    assert.equal(await blobStatus(app, "sweep/a", sha256("only in a")), 200, "and sweep/a's link stays with it");
    assert.equal(await manifestStatus(app, "sweep/a", "new"), 200);

    const again = await app.lifecycle.collectGarbage();
    assert.equal(again.sweep.blobs.count, 0, "a second run finds nothing more");
  });

  it("keeps blobs younger than the grace period, and --grace 0 takes unreferenced ones at once", async () => {
    clock.ahead = 0;
    const young = await pushBlob(app, "sweep/grace", "uploaded, manifest not pushed yet");
    const report = await app.lifecycle.collectGarbage();
    assert.ok(await indexed(app, young), JSON.stringify(report));
    await app.lifecycle.collectGarbage({ graceMs: 0 });
    assert.equal(await indexed(app, young), false);
    assert.equal(await blobStatus(app, "sweep/grace", young), 404);
  });

  it("keeps what an index's children reference, and a manifest pushed after a sweep finds its blobs gone cleanly", async () => {
    const child = await pushImageOf(app, "sweep/index", "child", ["index child config", "index child layer"]);
    await pushIndex(app, "sweep/index", "multi", [child]);
    const untag = await app.fetch("/v2/sweep/index/manifests/child", { method: "DELETE" });
    assert.equal(untag.status, 202);
    await app.lifecycle.collectGarbage({ graceMs: 0 });
    assert.equal(await blobStatus(app, "sweep/index", sha256("index child layer")), 200);
    assert.equal(await manifestStatus(app, "sweep/index", child), 200);

    const late = await pushBlob(app, "sweep/index", "a layer whose manifest comes too late");
    await app.lifecycle.collectGarbage({ graceMs: 0 });
    const manifest = imageManifest({ digest: late, size: 37 }, [{ digest: late, size: 37 }]);
    const response = await app.fetch("/v2/sweep/index/manifests/late", {
      method: "PUT",
      body: manifest,
      headers: { "Content-Type": OCI_MANIFEST },
    });
    await assertError(response, 404, "MANIFEST_BLOB_UNKNOWN");
  });

  it("takes empty repositories out of the catalog", async () => {
    const digest = await pushImageOf(app, "sweep/empty", "only", ["empty config", "empty layer"]);
    await deleteManifest(app, "sweep/empty", digest);
    const report = await app.lifecycle.collectGarbage({ graceMs: 0 });
    assert.ok(report.repositories >= 1);
    const catalog = (await (await app.fetch("/v2/_catalog")).json()) as { repositories: string[] };
    assert.ok(!catalog.repositories.includes("sweep/empty"));
    assert.ok(catalog.repositories.includes("sweep/a"));
    await pushImageOf(app, "sweep/empty", "back", ["empty config 2", "empty layer"]);
    const again = (await (await app.fetch("/v2/_catalog")).json()) as { repositories: string[] };
    assert.ok(again.repositories.includes("sweep/empty"), "a new push brings it back");
  });

  it("runs one collection at a time: a second one finds the lease taken and skips", async () => {
    const lease = await app.storage.collection.acquireLease("garbage-collection");
    assert.ok(lease);
    try {
      const skipped = await app.lifecycle.collectGarbage({ graceMs: 0 });
      assert.match(skipped.skipped ?? "", /another process/);
      assert.equal(skipped.sweep.scanned, 0);
      const dry = await app.lifecycle.collectGarbage({ dryRun: true });
      assert.equal(dry.skipped, undefined, "a dry run changes nothing and needs no lease");
    } finally {
      await lease.release();
    }
    assert.equal((await app.lifecycle.collectGarbage({ graceMs: 0 })).skipped, undefined);
  });

  it("resumes after a crash at any step: nothing referenced lost, the garbage gone on the rerun", async () => {
    const store = app.storage.collection;
    for (const failAfter of [0, 1, 2]) {
      const keep = await pushImageOf(app, "sweep/crash", `keep${failAfter}`, [`keep cfg ${failAfter}`, "crash shared"]);
      const doomed = await pushImageOf(app, "sweep/crash", `doomed${failAfter}`, [
        `doomed cfg ${failAfter}`,
        `doomed layer ${failAfter}`,
        "crash shared",
      ]);
      await deleteManifest(app, "sweep/crash", doomed);
      const crashing = new BlobSweeper(failingAfter(store, failAfter), app.storage.registry.blobs);
      await assert.rejects(crashing.sweep({ graceMs: 0, dryRun: false, batchSize: 1000, now: Date.now }), /crash/);
      await app.lifecycle.collectGarbage({ graceMs: 0 });
      assert.equal(await indexed(app, sha256(`doomed layer ${failAfter}`)), false);
      assert.equal(await indexed(app, sha256(`doomed cfg ${failAfter}`)), false);
      assert.equal(await blobStatus(app, "sweep/crash", sha256("crash shared")), 200);
      assert.equal(await manifestStatus(app, "sweep/crash", keep), 200);
      for await (const page of store.blobIndexPages(1000))
        assert.deepEqual(
          page.filter((row) => row.state !== ""),
          [],
          "no row is left marked or deleting",
        );
    }
  });
});

/**
 * The store as a process sees it that dies part-way: 0 while deleting links, 1 after the
 * first index row is gone, 2 between marking and deciding (rows left "marked").
 */
function failingAfter(store: CollectionStore, n: number): CollectionStore {
  let deletions = 0;
  const crash = () => {
    throw new Error("crash (simulated)");
  };
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== "function") return value;
      if (n === 0 && property === "deleteLink") return crash;
      if (n === 2 && property === "setBlobState")
        return async (digest: string, state: string, etag: string) => {
          if (state === "deleting") crash();
          return target.setBlobState(digest, state as "marked", etag);
        };
      if (property === "deleteBlobRow")
        return async (digest: string, etag: string) => {
          if (n === 1 && deletions++ >= 1) crash();
          await target.deleteBlobRow(digest, etag);
        };
      return (value as (...args: unknown[]) => unknown).bind(target);
    },
  });
}
