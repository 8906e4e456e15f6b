import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { createHttpHeaders, createPipelineRequest, RestError, type PipelineResponse } from "@azure/core-rest-pipeline";
import { connectAzureStorage } from "../../shared/storage/azure/azure-storage.js";
import { containerOnDemandPolicy } from "../../shared/storage/azure/container-on-demand.js";
import { AzureBlobStore } from "../../shared/storage/azure/azure-blob-store.js";
import { connectBlobAccount } from "../../shared/storage/azure/blob-account.js";
import type { StorageCall } from "../../shared/storage/azure/storage-call-policy.js";
import { useAzurite } from "../helpers/azurite.js";
import { isolatedConfig } from "../helpers/registry.js";

/** What blob storage was asked, in order: `PUT blob 404`, `PUT container 201`... */
function recorded(calls: StorageCall[]): string[] {
  return calls.map(({ operation, status }) => `${operation} ${status}`);
}

describe("the blob container, made by the first write that finds it missing", () => {
  const azurite = useAzurite();

  function freshAccount() {
    const calls: StorageCall[] = [];
    const { container } = isolatedConfig(azurite().connectionString);
    const account = connectBlobAccount({
      connection: { connectionString: azurite().connectionString },
      container,
      observe: (call) => calls.push(call),
    });
    return { account, calls, store: new AzureBlobStore(async () => account) };
  }

  it("is not made by a deployment's first start, nor by reads", async () => {
    const { container, tablePrefix } = isolatedConfig(azurite().connectionString);
    const calls: StorageCall[] = [];
    const storage = connectAzureStorage({
      connectionString: azurite().connectionString,
      container,
      tablePrefix,
      observeCalls: (call) => calls.push(call),
    });
    await storage.ensureCreated();
    assert.deepEqual(
      calls.map(({ service }) => service),
      ["table", "table", "table", "table", "table"],
    );
    const blobs = storage.registry.blobs;
    assert.equal(await blobs.stat("blobs/x"), undefined);
    assert.deepEqual(await blobs.committedBlocks("uploads/x"), []);
    await blobs.delete("uploads/x");
    const listed = [];
    for await (const page of storage.collection.bytesPages("blobs/", new Date().toISOString())) listed.push(...page);
    assert.deepEqual(listed, []);
    assert.ok(!recorded(calls).some((call) => call.startsWith("PUT container")), recorded(calls).join(", "));
  });

  it("is made once by a write, which is then sent again and lands", async () => {
    const { account, calls, store } = freshAccount();
    const data = randomBytes(100);
    const etag = await store.create("blobs/a", data);
    assert.deepEqual(recorded(calls), ["PUT container 201", "PUT blob 201"]);
    assert.equal((await account.container.getBlockBlobClient("blobs/a").getProperties()).etag, etag);
    assert.deepEqual(Buffer.from(await store.readAll("blobs/a")), data);
  });

  it("is made once for many writes that find it missing together", async () => {
    const { calls, store } = freshAccount();
    const names = Array.from({ length: 8 }, (_, i) => `uploads/${i}`);
    await Promise.all(names.map((name) => store.stageBlock(name, "YmxvY2sx", randomBytes(10))));
    await Promise.all(names.map((name) => store.commitBlocks(name, ["YmxvY2sx"], null)));
    assert.equal(recorded(calls).filter((call) => call.startsWith("PUT container")).length, 1);
    for (const name of names) assert.equal((await store.stat(name))?.size, 10);
  });

  it("comes back when deleted under a running registry", async () => {
    const { account, store } = freshAccount();
    await store.put("blobs/first", randomBytes(5));
    await account.container.delete();
    await store.put("blobs/second", randomBytes(6));
    assert.equal((await store.stat("blobs/second"))?.size, 6);
    assert.equal(await store.stat("blobs/first"), undefined);
  });

  it("answers a write it cannot send twice with the service's 404", async () => {
    const { account, calls } = freshAccount();
    const blob = account.container.getBlockBlobClient("blobs/streamed");
    // a stream body is read once: not resent, the write fails as it always has
    const error = await blob.upload(Readable.from([Buffer.from("abc")]), 3).catch((e: unknown) => e);
    assert.equal((error as { statusCode?: number }).statusCode, 404);
    assert.deepEqual(recorded(calls), ["PUT blob 404"]);
  });

  it("leaves a write its own 404 when the create fails (e.g. Azure's 409 ContainerBeingDeleted)", async () => {
    let sent = 0;
    const policy = containerOnDemandPolicy(() => Promise.reject(new RestError("being deleted", { statusCode: 409 })));
    const request = createPipelineRequest({ url: "http://127.0.0.1:1/acct/c/blobs/x", method: "PUT" });
    request.body = new Uint8Array(3);
    const missing: PipelineResponse = {
      request,
      status: 404,
      headers: createHttpHeaders({ "x-ms-error-code": "ContainerNotFound" }),
    };
    const response = await policy.sendRequest(request, async () => (sent++, missing));
    assert.equal(response, missing);
    assert.equal(sent, 1);
  });
});
