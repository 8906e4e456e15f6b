import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import functions, { type Timer } from "@azure/functions";
import { openAccess } from "../../shared/http/authorizer.js";
import { useAzurite } from "../helpers/azurite.js";
import { sha256 } from "../helpers/content.js";
import { createTestApp } from "../helpers/registry.js";
import { pushBlob } from "./support.js";

const { InvocationContext } = functions;
const HOUR = 3600_000;

/** Abandoned uploads are purged, with their bytes, while the registry keeps serving. */
describe("Garbage collection of abandoned uploads", () => {
  const azurite = useAzurite();
  /** The registry's clock: tests move it past the upload TTL instead of sleeping. */
  let now = Date.now();
  let app: Awaited<ReturnType<typeof createTestApp>>;

  before(async () => {
    const options = { now: () => now, authorizer: openAccess };
    app = await createTestApp(azurite().connectionString, { STOWAGE_UPLOAD_TTL_SECONDS: "3600" }, options);
  });

  async function abandonUpload(repository: string, data: string): Promise<string> {
    const start = await app.fetch(`/v2/${repository}/blobs/uploads/`, { method: "POST" });
    const location = start.headers.get("location") as string;
    assert.equal((await app.fetch(location, { method: "PATCH", body: data })).status, 202);
    return new URL(location, "http://registry.test").pathname.split("/").at(-1) as string;
  }

  it("lists abandoned uploads on a dry run, purges them for real, and leaves finished blobs alone", async () => {
    const kept = await pushBlob(app, "gc/app", "finished blob");
    const ids = [await abandonUpload("gc/app", "half an upload"), await abandonUpload("gc/other", "another")];
    assert.deepEqual(await app.registry.uploads.purgeExpired(true), [], "nothing has expired yet");
    now += 2 * HOUR;

    const listed = await app.registry.uploads.purgeExpired(true);
    assert.deepEqual(listed.map((s) => s.id).sort(), [...ids].sort());
    const sizes = Object.fromEntries(listed.map((s) => [s.id, s.offset]));
    assert.deepEqual(sizes, { [ids[0] as string]: "half an upload".length, [ids[1] as string]: "another".length });
    assert.deepEqual((await app.registry.uploads.purgeExpired(true)).length, 2, "a dry run deletes nothing");

    const blobs = app.storage.registry.blobs;
    assert.ok(await blobs.stat(`blobs/${ids[0]}`), "the abandoned bytes exist");
    const purged = await app.registry.uploads.purgeExpired();
    assert.equal(await blobs.stat(`blobs/${ids[0]}`), undefined, "and are gone after the purge");
    assert.equal(purged.length, 2);
    assert.deepEqual(await app.registry.uploads.purgeExpired(true), []);
    const gone = await app.fetch(`/v2/gc/app/blobs/uploads/${ids[0]}`);
    assert.equal(gone.status, 404);
    assert.equal((await app.fetch(`/v2/gc/app/blobs/${kept}`)).status, 200);
    assert.equal((await app.fetch(`/v2/gc/app/blobs/${sha256("half an upload")}`)).status, 404);
  });

  it("a cancelled upload's marker and empty blob stay until the purge, which removes both", async () => {
    const fresh = await app.fetch("/v2/gc/cancel/blobs/uploads/", { method: "POST" });
    const freshId = new URL(fresh.headers.get("location") as string, "http://registry.test").pathname.split("/").at(-1);
    assert.equal((await app.fetch(fresh.headers.get("location") as string, { method: "DELETE" })).status, 204);
    const patchedId = await abandonUpload("gc/cancel", "cancelled bytes");
    assert.equal((await app.fetch(`/v2/gc/cancel/blobs/uploads/${patchedId}`, { method: "DELETE" })).status, 204);
    const blobs = app.storage.registry.blobs;
    for (const id of [freshId, patchedId]) assert.equal((await blobs.stat(`blobs/${id}`))?.size, 0, "an empty blob");
    assert.deepEqual(await app.registry.uploads.purgeExpired(true), [], "kept while a URL could still try");
    now += 2 * HOUR;
    const purged = await app.registry.uploads.purgeExpired();
    assert.deepEqual(purged.map((s) => s.id).sort(), [freshId, patchedId].sort());
    for (const id of [freshId, patchedId]) assert.equal(await blobs.stat(`blobs/${id}`), undefined);
    assert.deepEqual(await app.registry.uploads.purgeExpired(true), []);
  });

  it("runs from the Functions timer trigger", async () => {
    const id = randomBytes(4).toString("hex");
    Object.assign(process.env, {
      STOWAGE_STORAGE_CONNECTION_STRING: azurite().connectionString,
      STOWAGE_CONTAINER: app.config.container,
      STOWAGE_TABLE_PREFIX: app.config.tablePrefix,
      STOWAGE_UPLOAD_TTL_SECONDS: "3600",
      STOWAGE_EVENT_QUEUE: `gc-${id}`,
      STOWAGE_SECRETS_DIR: await mkdtemp(join(tmpdir(), "stw-gc-secrets-")),
    });
    const { purgeUploadsHandler } = await import("../../functions/garbage-collection.js");
    // started two hours ago by the registry's clock: expired for the Functions app's real clock
    now = Date.now() - 2 * HOUR;
    const upload = await abandonUpload("gc/timer", "left behind");
    now = Date.now();
    const logs: unknown[][] = [];
    const context = new InvocationContext({ logHandler: (_level, ...args) => logs.push(args) });
    await purgeUploadsHandler({ isPastDue: false, scheduleStatus: undefined } as unknown as Timer, context);
    assert.equal((await app.fetch(`/v2/gc/timer/blobs/uploads/${upload}`)).status, 404);
    assert.match(String(logs.flat().join(" ")), /abandoned upload\(s\) purged/);
  });
});
