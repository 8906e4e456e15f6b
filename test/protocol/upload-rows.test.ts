import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { openAccess } from "../../shared/http/authorizer.js";
import { UploadDisposal } from "../../shared/registry/upload-disposal.js";
import { useAzurite } from "../helpers/azurite.js";
import { randomBlob } from "../helpers/content.js";
import { createTestApp } from "../helpers/registry.js";
import { assertBlob, assertError, nextLocation, patchChunk, startUpload, withQuery } from "./support.js";

/** The upload id in a Location. */
const idOf = (location: string) => new URL(location, "http://registry.test").pathname.split("/").at(-1) as string;

/**
 * POST stores nothing: an upload's row is written beside its first PATCH's bytes, and an upload
 * finished by the request that brings its bytes never has one. A cancel must still be final for
 * every URL the upload handed out, the first one included.
 */
describe("Upload sessions recorded with their first bytes", () => {
  const azurite = useAzurite();
  let app: Awaited<ReturnType<typeof createTestApp>>;

  before(async () => {
    app = await createTestApp(azurite().connectionString, {}, { authorizer: openAccess });
  });

  const recorded = async (repository: string, location: string) =>
    (await app.storage.registry.metadata.getUpload(repository, idOf(location))) !== undefined;

  it("POST records nothing; the first PATCH records the upload; a PUT with the whole blob never does", async () => {
    const repository = "rows/record";
    const opened = await startUpload(app, repository);
    assert.equal(await recorded(repository, opened), false, "POST wrote no row");
    const status = await app.fetch(opened);
    assert.equal(status.status, 204, "yet the upload is open");
    assert.equal(status.headers.get("range"), "0-0");

    const { data, digest } = randomBlob(100);
    const patched = await patchChunk(app, opened, data.subarray(0, 40), 0);
    assert.equal(patched.status, 202, await patched.text());
    assert.equal(await recorded(repository, opened), true, "the first bytes brought the row");
    const done = await patchChunk(app, nextLocation(patched), data.subarray(40), 40);
    const put = await app.fetch(withQuery(nextLocation(done), `digest=${digest}`), { method: "PUT" });
    assert.equal(put.status, 201, await put.text());
    assert.equal(await recorded(repository, opened), false, "completion removed it");

    const whole = randomBlob(100);
    const second = await startUpload(app, repository);
    const finished = await app.fetch(withQuery(second, `digest=${whole.digest}`), { method: "PUT", body: whole.data });
    assert.equal(finished.status, 201, await finished.text());
    assert.equal(await recorded(repository, second), false);
    await assertBlob(app, repository, whole.digest, whole.data);
    await assertError(await app.fetch(second), 404, "BLOB_UPLOAD_UNKNOWN");
    await assertError(await app.fetch(second, { method: "DELETE" }), 404, "BLOB_UPLOAD_UNKNOWN");
    await assertBlob(app, repository, whole.digest, whole.data); // a late DELETE leaves the published bytes
  });

  it("a PUT with the whole blob under a wrong digest writes nothing and leaves the upload open", async () => {
    const repository = "rows/wrong-digest";
    const location = await startUpload(app, repository);
    const { data, digest } = randomBlob(50);
    const wrong = await app.fetch(withQuery(location, `digest=${randomBlob(1).digest}`), { method: "PUT", body: data });
    await assertError(wrong, 400, "DIGEST_INVALID");
    assert.equal(await app.storage.registry.blobs.stat(`blobs/${idOf(location)}`), undefined);
    const put = await app.fetch(withQuery(location, `digest=${digest}`), { method: "PUT", body: data });
    assert.equal(put.status, 201, await put.text());
    await assertBlob(app, repository, digest, data);
  });

  it("cancelled before any byte arrived, the upload's URL can neither write nor finish", async () => {
    const repository = "rows/cancel-fresh";
    const location = await startUpload(app, repository);
    assert.equal((await app.fetch(location, { method: "DELETE" })).status, 204);
    const { data, digest } = randomBlob(50);
    await assertError(await app.fetch(location), 404, "BLOB_UPLOAD_UNKNOWN");
    await assertError(await patchChunk(app, location, data, 0), 404, "BLOB_UPLOAD_UNKNOWN");
    assert.equal(await recorded(repository, location), false, "the refused PATCH left no open row behind");
    const wrong = await app.fetch(withQuery(location, `digest=${randomBlob(1).digest}`), { method: "PUT", body: data });
    await assertError(wrong, 400, "DIGEST_INVALID"); // verified before anything is written
    const put = await app.fetch(withQuery(location, `digest=${digest}`), { method: "PUT", body: data });
    await assertError(put, 404, "BLOB_UPLOAD_UNKNOWN");
    await assertError(await app.fetch(location, { method: "DELETE" }), 404, "BLOB_UPLOAD_UNKNOWN");
    await assertError(await app.fetch(`/v2/${repository}/blobs/${digest}`), 404, "BLOB_UNKNOWN");
  });

  it("cancelled after a PATCH, no earlier URL revives it and its bytes are gone", async () => {
    const repository = "rows/cancel-patched";
    const first = await startUpload(app, repository);
    const { data, digest } = randomBlob(50);
    const patched = await patchChunk(app, first, data, 0);
    assert.equal(patched.status, 202);
    const later = nextLocation(patched);
    assert.equal((await app.fetch(later, { method: "DELETE" })).status, 204);
    const blob = await app.storage.registry.blobs.stat(`blobs/${idOf(first)}`);
    assert.equal(blob?.size, 0, "the bytes gave way to an empty blob");

    await assertError(await patchChunk(app, first, data, 0), 404, "BLOB_UPLOAD_UNKNOWN");
    const put = await app.fetch(withQuery(first, `digest=${digest}`), { method: "PUT", body: data });
    await assertError(put, 404, "BLOB_UPLOAD_UNKNOWN");
    await assertError(
      await app.fetch(withQuery(later, `digest=${digest}`), { method: "PUT" }),
      404,
      "BLOB_UPLOAD_UNKNOWN",
    );
    await assertError(await app.fetch(first), 404, "BLOB_UPLOAD_UNKNOWN");
    await assertError(await app.fetch(`/v2/${repository}/blobs/${digest}`), 404, "BLOB_UNKNOWN");
    assert.equal(await recorded(repository, first), false, "the cancelled row is not an open upload");
  });
});

/**
 * A cancel reads the upload's blob, then changes it on the condition that nothing wrote since:
 * a write in between (a PATCH, or a completion freezing the bytes) makes it read and decide again.
 */
describe("A cancel racing a write to the same upload", () => {
  const azurite = useAzurite();
  let app: Awaited<ReturnType<typeof createTestApp>>;

  before(async () => {
    app = await createTestApp(azurite().connectionString, {}, { authorizer: openAccess });
  });

  /** An upload with 40 bytes PATCHed, its blob as read then, and a later write by `write`. */
  async function raced(repository: string, write: (blobName: string, etag: string) => Promise<unknown>) {
    const { blobs, metadata } = app.storage.registry;
    const first = await startUpload(app, repository);
    const { data, digest } = randomBlob(40);
    assert.equal((await patchChunk(app, first, data, 0)).status, 202);
    const id = idOf(first);
    const blobName = `blobs/${id}`;
    const seen = await blobs.stat(blobName);
    assert.ok(seen);
    await write(blobName, seen.etag);
    const session = await metadata.getUpload(repository, id);
    assert.ok(session);
    await new UploadDisposal(blobs, metadata).cancel(session, seen);
    return { blobName, digest, session };
  }

  it("bytes written after the cancel read them are emptied all the same", async () => {
    const { blobs } = app.storage.registry;
    const { blobName } = await raced("race/patch", (name, etag) =>
      blobs.commitBlocks(name, [], etag, { digest: "sha256:written-meanwhile" }),
    );
    const after = await blobs.stat(blobName);
    assert.equal(after?.size, 0);
    assert.equal(after?.note, undefined, "the write made in between was replaced");
    assert.equal(await app.storage.registry.metadata.getUpload("race/patch", blobName.slice(6)), undefined);
  });

  it("bytes a completion froze meanwhile keep their content and are marked so no retried completion takes them", async () => {
    const { blobs } = app.storage.registry;
    let digest = "";
    const { blobName } = await raced("race/freeze", async (name, etag) => {
      const stored = await blobs.stat(name);
      digest = stored?.note?.digest as string;
      return blobs.annotate(name, { digest, frozen: true }, etag);
    });
    const after = await blobs.stat(blobName);
    assert.equal(after?.size, 40, "frozen bytes are never emptied: the completion may still index them");
    assert.deepEqual(after?.note, { digest, frozen: true, cancelled: true });
  });
});
