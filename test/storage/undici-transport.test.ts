import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { connect, createServer, type Server } from "node:net";
import type { Readable } from "node:stream";
import { describe, it } from "node:test";
import { RestError } from "@azure/core-rest-pipeline";
import { BlobServiceClient, ContainerClient } from "@azure/storage-blob";
import { Agent, type Dispatcher } from "undici";
import { addPipelinePolicy } from "../../shared/storage/azure/storage-call-policy.js";
import { undiciTransportPolicy } from "../../shared/storage/azure/undici-transport.js";
import { useAzurite } from "../helpers/azurite.js";

/**
 * Blob reads received by undici must behave exactly as the SDK's own client makes them behave
 * (bytes, ranges, properties, errors, retries, aborts), while uploads still go the SDK's way.
 */
const azurite = useAzurite();

/** A dispatcher that records each request it is given (`GET /devstoreaccount1/c/b`). */
function recordingAgent(seen: string[]): Dispatcher {
  return new Agent().compose((dispatch) => (options, handler) => {
    seen.push(`${options.method} ${options.path.split("?")[0]}`);
    return dispatch(options, handler);
  });
}

function container(connection: string, name: string, seen?: string[]): ContainerClient {
  const client = BlobServiceClient.fromConnectionString(connection, {
    retryOptions: { maxTries: 2, retryDelayInMs: 10 },
  }).getContainerClient(name);
  if (seen) addPipelinePolicy(client, undiciTransportPolicy(recordingAgent(seen)), { afterPhase: "Sign" });
  return client;
}

async function bytesOf(stream: NodeJS.ReadableStream | undefined): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream as Readable) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * A TCP relay to `port` that breaks the first connection once `cutAfter` bytes of answers have
 * gone through it (a storage front end dropping a download part-way); later ones pass whole.
 */
async function cuttingRelay(port: number, cutAfter: number): Promise<{ port: number; server: Server }> {
  let first = true;
  const server = createServer((client) => {
    const upstream = connect(port, "127.0.0.1");
    const cut = first;
    first = false;
    let passed = 0;
    client.pipe(upstream);
    upstream.on("data", (chunk: Buffer) => {
      passed += chunk.byteLength;
      if (cut && passed > cutAfter) {
        client.destroy();
        upstream.destroy();
      } else client.write(chunk);
    });
    upstream.on("end", () => client.end());
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as { port: number }).port, server };
}

describe("undici transport for blob reads", () => {
  it("downloads whole blobs and ranges through undici; every other call goes the SDK's way", async () => {
    const seen: string[] = [];
    const blobs = container(azurite().connectionString, "reads", seen);
    await blobs.create();
    const data = randomBytes(3 * 1024 * 1024 + 17);
    const blob = blobs.getBlockBlobClient("layer");
    await blob.uploadData(data);
    assert.deepEqual(seen, [], "only downloads are undici's");

    assert.deepEqual(await bytesOf((await blob.download()).readableStreamBody), data);
    const range = await blob.download(1000, 70_000);
    assert.equal(range.contentLength, 70_000);
    assert.deepEqual(await bytesOf(range.readableStreamBody), data.subarray(1000, 71_000));
    const properties = await blob.getProperties();
    assert.equal(properties.contentLength, data.byteLength);
    assert.equal(properties.etag, range.etag);
    assert.deepEqual(seen, ["GET /devstoreaccount1/reads/layer", "GET /devstoreaccount1/reads/layer"]);
  });

  it("fails a missing blob as the SDK's own client does (status and storage error code)", async () => {
    const seen: string[] = [];
    const connection = azurite().connectionString;
    await container(connection, "errors").create();
    const failure = async (blobs: ContainerClient) =>
      blobs
        .getBlobClient("missing")
        .download()
        .then(
          () => assert.fail("a missing blob downloaded"),
          (error: RestError) => ({ status: error.statusCode, code: error.code, name: error.name }),
        );
    const viaUndici = await failure(container(connection, "errors", seen));
    assert.deepEqual(viaUndici, await failure(container(connection, "errors")));
    assert.deepEqual(viaUndici, { status: 404, code: "BlobNotFound", name: "RestError" });
    assert.deepEqual(seen, ["GET /devstoreaccount1/errors/missing"]);
  });

  it("resumes a download that breaks part-way from where it broke (the blob SDK's retry)", async () => {
    const data = randomBytes(4 * 1024 * 1024);
    const writer = container(azurite().connectionString, "broken");
    await writer.create();
    await writer.getBlockBlobClient("layer").uploadData(data);
    const relay = await cuttingRelay(azurite().ports.blob, 1024 * 1024);
    try {
      const connection = azurite().connectionString.replace(
        /BlobEndpoint=http:\/\/[^/]+/,
        `BlobEndpoint=http://127.0.0.1:${relay.port}`,
      );
      const seen: string[] = [];
      const response = await container(connection, "broken", seen).getBlobClient("layer").download();
      assert.deepEqual(await bytesOf(response.readableStreamBody), data);
      assert.deepEqual(seen, ["GET /devstoreaccount1/broken/layer", "GET /devstoreaccount1/broken/layer"]);
    } finally {
      relay.server.close();
    }
  });

  it("turns a refused connection into a send error the SDK retries", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as { port: number };
    await new Promise((resolve) => closed.close(resolve));
    const connection = azurite().connectionString.replace(
      /BlobEndpoint=http:\/\/[^/]+/,
      `BlobEndpoint=http://127.0.0.1:${port}`,
    );
    const seen: string[] = [];
    await assert.rejects(container(connection, "gone", seen).getBlobClient("b").download(), (error: RestError) => {
      assert.ok(error instanceof RestError);
      assert.equal(error.code, "ECONNREFUSED");
      return true;
    });
    assert.equal(seen.length, 2, "tried twice (maxTries 2)");
  });

  it("ends a download when its caller aborts, mid-body", async () => {
    const blobs = container(azurite().connectionString, "aborts", []);
    await blobs.create();
    const blob = blobs.getBlockBlobClient("big");
    await blob.uploadData(randomBytes(8 * 1024 * 1024));
    const controller = new AbortController();
    const body = (await blob.download(0, undefined, { abortSignal: controller.signal })).readableStreamBody as Readable;
    let received = 0;
    await assert.rejects(
      (async () => {
        for await (const chunk of body) {
          received += (chunk as Buffer).byteLength;
          controller.abort();
        }
      })(),
      (error: Error) => error.name === "AbortError",
    );
    assert.ok(received < 8 * 1024 * 1024, `stopped early (${received} bytes)`);
  });
});
