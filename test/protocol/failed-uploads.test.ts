import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { BlobServiceClient } from "@azure/storage-blob";
import { useAzurite } from "../helpers/azurite.js";
import { randomBlob, sha256 } from "../helpers/content.js";
import { createTestRegistry, type TestRegistry } from "../helpers/registry.js";
import { assertError, nextLocation, patchChunk, startUpload, withQuery } from "./support.js";

/**
 * A single-request upload (POST ?digest=) has no session, so nothing a purge looks at records
 * its bytes: when it fails, the bytes must go at once, or every bad push leaks storage.
 */
describe("failed single-request uploads leave no bytes behind", () => {
  const azurite = useAzurite();
  let registry: TestRegistry;

  before(async () => {
    // 1 MiB blocks: a few MiB are several staged blocks before the digest is known
    registry = await createTestRegistry(azurite().connectionString, { STOWAGE_BLOCK_SIZE_MIB: "1" });
  });

  /** Blobs in the registry's container, counting those that have only staged blocks (none before it exists). */
  async function storedBlobs(): Promise<number> {
    const container = BlobServiceClient.fromConnectionString(azurite().connectionString).getContainerClient(
      registry.config.container,
    );
    if (!(await container.exists())) return 0;
    let count = 0;
    for await (const blob of container.listBlobsFlat({ includeUncommitedBlobs: true })) count += blob ? 1 : 0;
    return count;
  }

  it("a wrong digest: 400 DIGEST_INVALID and the container holds what it held before", async () => {
    const before = await storedBlobs();
    const { data } = randomBlob(3 * 1024 * 1024 + 5);
    for (let i = 0; i < 3; i++) {
      const response = await registry.fetch(`/v2/leak/app/blobs/uploads/?digest=${sha256(`not it ${i}`)}`, {
        method: "POST",
        body: data,
      });
      await assertError(response, 400, "DIGEST_INVALID");
    }
    assert.equal(await storedBlobs(), before);
  });

  it("a body that breaks off midway: the staged blocks are dropped too", async () => {
    const before = await storedBlobs();
    const { data, digest } = randomBlob(3 * 1024 * 1024);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= 2 * 1024 * 1024) return controller.error(new Error("client went away"));
        controller.enqueue(data.subarray(sent, sent + 256 * 1024));
        sent += 256 * 1024;
      },
    });
    const response = await registry
      .fetch(`/v2/leak/app/blobs/uploads/?digest=${digest}`, { method: "POST", body, duplex: "half" })
      .catch((error: unknown) => error);
    if (response instanceof Response) assert.ok(response.status >= 400, `answered ${response.status}`);
    assert.equal(await storedBlobs(), before);
  });

  it("POST then PUT under a wrong digest: no blocks left, and the upload still open", async () => {
    const before = await storedBlobs();
    const { data, digest } = randomBlob(3 * 1024 * 1024 + 5);
    const location = await startUpload(registry, "leak/put");
    const wrong = await registry.fetch(withQuery(location, `digest=${sha256("not it")}`), {
      method: "PUT",
      body: data,
    });
    await assertError(wrong, 400, "DIGEST_INVALID");
    assert.equal(await storedBlobs(), before, "nothing staged or committed is left");
    const put = await registry.fetch(withQuery(location, `digest=${digest}`), { method: "PUT", body: data });
    assert.equal(put.status, 201, await put.text());
    assert.equal(await storedBlobs(), before + 1);
  });

  it("a good upload still stores exactly its blob", async () => {
    const before = await storedBlobs();
    const { data, digest } = randomBlob(2 * 1024 * 1024);
    const response = await registry.fetch(`/v2/leak/app/blobs/uploads/?digest=${digest}`, {
      method: "POST",
      body: data,
    });
    assert.equal(response.status, 201, await response.text());
    assert.equal(await storedBlobs(), before + 1);
  });
});

describe("unfinished uploads per repository are limited", () => {
  const azurite = useAzurite();
  let registry: TestRegistry;

  before(async () => {
    registry = await createTestRegistry(azurite().connectionString, { STOWAGE_MAX_UPLOADS_PER_REPOSITORY: "3" });
  });

  /** An upload of `busy/app` or another repository, with its first 10 bytes sent. */
  const firstPatch = async (location: string) => patchChunk(registry, location, data, 0);
  const { data, digest } = randomBlob(10);

  it("past the limit an upload's first PATCH is 429 TOOMANYREQUESTS with Retry-After and keeps nothing; finishing or cancelling one frees a place", async () => {
    const locations: string[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await firstPatch(await startUpload(registry, "busy/app"));
      assert.equal(response.status, 202, await response.text());
      locations.push(nextLocation(response));
    }
    const waiting = await startUpload(registry, "busy/app"); // POST stores nothing: nothing to limit
    const refused = await firstPatch(waiting);
    assert.ok(Number(refused.headers.get("retry-after")) > 0);
    const entry = await assertError(refused, 429, "TOOMANYREQUESTS");
    assert.deepEqual((entry.detail as { limit: number }).limit, 3);
    const status = await registry.fetch(waiting);
    assert.equal(status.status, 204, "the refused upload is still open");
    assert.equal(status.headers.get("range"), "0-0", "and holds none of the refused bytes");

    assert.equal(
      (await firstPatch(await startUpload(registry, "other/app"))).status,
      202,
      "another repository has its own allowance",
    );
    assert.equal((await registry.fetch(locations[0] as string, { method: "DELETE" })).status, 204);
    const admitted = await firstPatch(waiting);
    assert.equal(admitted.status, 202, "a cancelled upload frees its place");
    assert.equal((await firstPatch(await startUpload(registry, "busy/app"))).status, 429);
    const finished = await registry.fetch(withQuery(locations[1] as string, `digest=${digest}`), { method: "PUT" });
    assert.equal(finished.status, 201, await finished.text());
    assert.equal(
      (await firstPatch(await startUpload(registry, "busy/app"))).status,
      202,
      "a finished upload frees its place",
    );
  });

  it("single-request uploads and mounts open no session and are not limited", async () => {
    for (let i = 0; i < 5; i++) {
      const { data, digest } = randomBlob(100);
      const response = await registry.fetch(`/v2/busy/app/blobs/uploads/?digest=${digest}`, {
        method: "POST",
        body: data,
      });
      assert.equal(response.status, 201, await response.text());
    }
  });
});
