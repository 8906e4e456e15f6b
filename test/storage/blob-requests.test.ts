import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { before, describe, it } from "node:test";
import { createHttpHeaders, type PipelineRequest } from "@azure/core-rest-pipeline";
import { AzureBlobStore } from "../../shared/storage/azure/azure-blob-store.js";
import { connectBlobAccount, type BlobAccount } from "../../shared/storage/azure/blob-account.js";
import { sendBlobRequest } from "../../shared/storage/azure/blob-requests.js";
import { addPipelinePolicy, type StorageCall } from "../../shared/storage/azure/storage-call-policy.js";
import { ConcurrentUpdateError } from "../../shared/storage/ports/errors.js";
import { useAzurite } from "../helpers/azurite.js";

/**
 * The lean blob calls (Put Blob for `create`, Set Blob Metadata for `annotate`) must send what
 * the SDK's `upload` and `setMetadata` send with the same options (URL, headers, body), go
 * through the container's pipeline (pinned API version, call metrics) and fail as they fail.
 */
const PINNED = "2019-07-07";
const NAMES = ["blobs/0123456789abcdef0123456789abcdef", "manifests/sha256/ab", "odd name/o'brien+x%y;ü=日本/(1)!*~"];
const NOTES = [{ digest: "sha256:" + "a".repeat(64) }, { digest: "sha256:b", hashState: "c3RhdGU=", frozen: true }];

/** The note as the store writes it (blob metadata). */
const metadata = (note: (typeof NOTES)[number]) => ({
  digest: note.digest,
  ...(note.hashState ? { hashstate: note.hashState } : {}),
  ...(note.frozen ? { frozen: "true" } : {}),
});

function wire(request: PipelineRequest) {
  // names as HTTP compares them (case-insensitively), less what differs per call (id, date, signature)
  const headers = Object.fromEntries(
    [...request.headers]
      .map(([name, value]) => [name.toLowerCase(), value])
      .filter(([name]) => !["x-ms-client-request-id", "x-ms-date", "authorization"].includes(name!)),
  );
  const body = request.body === undefined ? undefined : Buffer.from(request.body as Uint8Array).toString("hex");
  return { method: request.method, url: request.url, headers, body, insecure: request.allowInsecureConnection };
}

describe("blob calls (lean upload and setMetadata)", () => {
  const azurite = useAzurite();
  let connectionString: string;
  before(() => {
    connectionString = azurite().connectionString;
  });

  /** The account as the server connects it, recording each request after signing and answering it itself. */
  function recording(apiVersion: string | undefined, requests: PipelineRequest[]): BlobAccount {
    const account = connectBlobAccount({ connection: { connectionString }, container: "leanblob", apiVersion });
    const policy = {
      name: "record",
      sendRequest: async (request: PipelineRequest) => {
        requests.push(request);
        const headers = createHttpHeaders({ etag: '"0x1"' });
        return { request, status: request.url.includes("comp=metadata") ? 200 : 201, headers, bodyAsText: "" };
      },
    };
    addPipelinePolicy(account.container, policy, { afterPhase: "Sign" });
    return account;
  }

  it("sends the same requests as the SDK, for every name, note and API version", async () => {
    for (const apiVersion of [undefined, PINNED]) {
      const requests: PipelineRequest[] = [];
      const account = recording(apiVersion, requests);
      const store = new AzureBlobStore(async () => account);
      for (const name of NAMES) {
        for (const note of NOTES) {
          const data = randomBytes(100);
          const blob = account.container.getBlockBlobClient(name);
          await blob.upload(data, data.byteLength, { conditions: { ifNoneMatch: "*" }, metadata: metadata(note) });
          assert.equal(await store.create(name, data, note), '"0x1"');
          await blob.setMetadata(metadata(note), { conditions: { ifMatch: '"0x9"' } });
          assert.equal(await store.annotate(name, note, '"0x9"'), '"0x1"');
          const [sdkPut, leanPut, sdkMeta, leanMeta] = requests.splice(0);
          assert.deepEqual(wire(leanPut!), wire(sdkPut!));
          assert.deepEqual(wire(leanMeta!), wire(sdkMeta!));
          assert.equal(leanPut!.headers.get("x-ms-version"), apiVersion ?? sdkPut!.headers.get("x-ms-version"));
        }
      }
    }
  });

  it("writes what the SDK writes, and refuses as the store always has", async () => {
    const calls: StorageCall[] = [];
    const account = connectBlobAccount({
      connection: { connectionString },
      container: "leanblob2",
      observe: (call) => calls.push(call),
    });
    await account.container.createIfNotExists();
    const store = new AzureBlobStore(async () => account);
    for (const name of NAMES) {
      const data = randomBytes(1000);
      const etag = await store.create(name, data, NOTES[1]);
      const properties = await account.container.getBlockBlobClient(name).getProperties();
      assert.equal(etag, properties.etag);
      assert.deepEqual(properties.metadata, metadata(NOTES[1]!));
      assert.deepEqual(Buffer.from(await store.readAll(name)), data);
      await assert.rejects(store.create(name, data), ConcurrentUpdateError);
      const annotated = await store.annotate(name, NOTES[0]!, etag);
      assert.notEqual(annotated, etag);
      assert.deepEqual(await store.stat(name), { etag: annotated, size: 1000, note: NOTES[0] });
      await assert.rejects(store.annotate(name, NOTES[1]!, etag), ConcurrentUpdateError);
    }
    await assert.rejects(store.annotate("blobs/missing", NOTES[0]!, '"0x1"'), ConcurrentUpdateError);
    // counted as the SDK's calls are
    assert.deepEqual(
      calls
        .filter(({ operation }) => operation === "PUT blob" || operation === "PUT metadata")
        .slice(0, 4)
        .map(({ operation, status }) => `${operation} ${status}`),
      ["PUT blob 201", "PUT blob 409", "PUT metadata 200", "PUT metadata 412"],
    );
    // a refusal reaches the caller as the SDK's does: the same status and service error code
    const [name] = NAMES;
    const lean = await sendBlobRequest(
      account.container,
      name!,
      { headers: { "x-ms-blob-type": "BlockBlob", "If-None-Match": "*" }, body: randomBytes(1) },
      201,
    ).catch((e) => e);
    const sdk = await account.container
      .getBlockBlobClient(name!)
      .upload("x", 1, { conditions: { ifNoneMatch: "*" } })
      .catch((e) => e);
    assert.equal(lean.statusCode, 409);
    assert.equal(lean.statusCode, sdk.statusCode);
    assert.equal(lean.code, sdk.code);
  });
});
