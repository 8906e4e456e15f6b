import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { BlobServiceClient } from "@azure/storage-blob";
import { useAzurite } from "../helpers/azurite.js";
import { randomBlob, sha256 } from "../helpers/content.js";
import { createTestRegistry, type TestRegistry } from "../helpers/registry.js";
import { assertError } from "./support.js";

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

  /** Blobs in the registry's container, counting those that have only staged blocks. */
  async function storedBlobs(): Promise<number> {
    const container = BlobServiceClient.fromConnectionString(azurite().connectionString).getContainerClient(
      registry.config.container,
    );
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
