import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { connect, createServer, type Server } from "node:net";
import type { Readable } from "node:stream";
import { after, describe, it } from "node:test";
import { RestError, type Pipeline } from "@azure/core-rest-pipeline";
import { BlobServiceClient, ContainerClient } from "@azure/storage-blob";
import { Agent, type Dispatcher } from "undici";
import { connectBlobAccount } from "../../shared/storage/azure/blob-account.js";
import { addPipelinePolicy } from "../../shared/storage/azure/storage-call-policy.js";
import { undiciTransportPolicy } from "../../shared/storage/azure/undici-transport.js";
import { useAzurite } from "../helpers/azurite.js";

/**
 * Blob reads received by undici must behave exactly as the SDK's own client makes them behave
 * (bytes, ranges, properties, errors, retries, aborts), while uploads still go the SDK's way.
 */
const azurite = useAzurite();

const agents: Dispatcher[] = [];
after(() => Promise.all(agents.map((agent) => agent.close())));

/** A dispatcher that records each request it is given (`GET /devstoreaccount1/c/b`). */
function recordingAgent(seen: string[]): Dispatcher {
  const agent = new Agent().compose((dispatch) => (options, handler) => {
    seen.push(`${options.method} ${options.path.split("?")[0]}`);
    return dispatch(options, handler);
  });
  agents.push(agent);
  return agent;
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

interface Relay {
  connection: string;
  /** Connections broken so far. */
  broken: number;
  close(): void;
}

/**
 * A TCP relay in front of Azurite's blob service that breaks a connection when `breaks` says
 * so, given the connection's number (from 0), the requests it has carried and the bytes of
 * answers it has passed on.
 */
async function relay(
  breaks: (at: { connection: number; requests: number; answered: number }) => boolean,
): Promise<Relay> {
  let connections = 0;
  const state: Relay = { connection: "", broken: 0, close: () => server.close() };
  const server: Server = createServer((client) => {
    const upstream = connect(azurite().ports.blob, "127.0.0.1");
    const at = { connection: connections++, requests: 0, answered: 0 };
    const pass = (to: typeof client) => (chunk: Buffer) => {
      if (breaks(at)) {
        state.broken += 1;
        client.destroy();
        upstream.destroy();
      } else to.write(chunk);
    };
    const toUpstream = pass(upstream);
    client.on("data", (chunk: Buffer) => {
      if (/^[A-Z]+ \//.test(chunk.toString("latin1", 0, 16))) at.requests += 1;
      toUpstream(chunk);
    });
    const toClient = pass(client);
    upstream.on("data", (chunk: Buffer) => {
      at.answered += chunk.byteLength;
      toClient(chunk);
    });
    upstream.on("end", () => client.end());
    client.on("error", () => upstream.destroy());
    upstream.on("error", () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  state.connection = azurite().connectionString.replace(
    /BlobEndpoint=http:\/\/[^/]+/,
    `BlobEndpoint=http://127.0.0.1:${port}`,
  );
  return state;
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
    const cutting = await relay(({ connection, answered }) => connection === 0 && answered > 1024 * 1024);
    try {
      const seen: string[] = [];
      const response = await container(cutting.connection, "broken", seen).getBlobClient("layer").download();
      assert.deepEqual(await bytesOf(response.readableStreamBody), data);
      assert.equal(cutting.broken, 1);
      assert.deepEqual(seen, ["GET /devstoreaccount1/broken/layer", "GET /devstoreaccount1/broken/layer"]);
    } finally {
      cutting.close();
    }
  });

  it("retries a download whose kept-alive connection storage had closed", async () => {
    const data = randomBytes(256 * 1024);
    const writer = container(azurite().connectionString, "stale");
    await writer.create();
    await writer.getBlockBlobClient("layer").uploadData(data);
    // every connection carries one request: a second one on it is met by a closed socket
    const closing = await relay(({ requests }) => requests > 1);
    try {
      const seen: string[] = [];
      const blob = container(closing.connection, "stale", seen).getBlobClient("layer");
      for (let pull = 0; pull < 3; pull++) {
        assert.deepEqual(await bytesOf((await blob.download()).readableStreamBody), data);
        await new Promise((resolve) => setTimeout(resolve, 20)); // the connection goes back to the pool
      }
      assert.ok(closing.broken > 0, "a kept-alive connection was reused and found closed");
      assert.equal(seen.length, 3 + closing.broken, "each broken attempt was retried once");
    } finally {
      closing.close();
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

  for (const reason of [undefined, new Error("client gone")]) {
    it(`ends a download when its caller aborts mid-body${reason ? ", with a reason," : ""} without resuming it`, async () => {
      const seen: string[] = [];
      const blobs = container(azurite().connectionString, "aborts", seen);
      await blobs.createIfNotExists();
      const blob = blobs.getBlockBlobClient("big");
      await blob.uploadData(randomBytes(8 * 1024 * 1024));
      const controller = new AbortController();
      const body = (await blob.download(0, undefined, { abortSignal: controller.signal }))
        .readableStreamBody as Readable;
      let received = 0;
      await assert.rejects(
        (async () => {
          for await (const chunk of body) {
            received += (chunk as Buffer).byteLength;
            controller.abort(reason);
          }
        })(),
        (error: Error) => error.name === "AbortError",
      );
      assert.ok(received < 8 * 1024 * 1024, `stopped early (${received} bytes)`);
      assert.deepEqual(seen, ["GET /devstoreaccount1/aborts/big"]);
    });
  }

  it("is on the pipeline of every blob account (after signing)", () => {
    const { container: blobs } = connectBlobAccount({
      connection: { connectionString: azurite().connectionString },
      container: "wiring",
    });
    const { pipeline } = (blobs as unknown as { storageClientContext: { pipeline: Pipeline } }).storageClientContext;
    const names = pipeline.getOrderedPolicies().map((policy) => policy.name);
    assert.ok(names.includes("stowageUndiciTransport"), names.join(", "));
    assert.ok(names.indexOf("stowageUndiciTransport") > names.indexOf("storageSharedKeyCredentialPolicy"));
  });
});
