import assert from "node:assert/strict";
import { Agent, createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import {
  createEmptyPipeline,
  createPipelineRequest,
  defaultRetryPolicy,
  isRestError,
  type PipelineRequest,
} from "@azure/core-rest-pipeline";
import { smallCallClient } from "../../shared/storage/azure/small-call-client.js";

/**
 * The small-call client must answer as the SDK's default client does for the calls Stowage sends
 * itself (status, headers, text, decompression, broken connections as retryable errors) and hand
 * everything else to the default client.
 */
interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
  socket: number;
}

describe("small-call client", () => {
  const seen: Seen[] = [];
  let handle: (req: IncomingMessage, res: ServerResponse, body: string) => void = () => undefined;
  let server: Server;
  let base = "";
  let sockets = 0;

  before(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (chunk: Buffer) => chunks.push(chunk));
      req.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        const socket = (req.socket as { id?: number }).id ?? -1;
        seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body, socket });
        handle(req, res, body);
      });
    });
    server.on("connection", (socket) => Object.assign(socket, { id: sockets++ }));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  const request = (path: string, options: Partial<PipelineRequest> = {}) =>
    Object.assign(createPipelineRequest({ url: `${base}${path}`, allowInsecureConnection: true }), options);

  it("sends the headers and body as given and answers with status, headers and text", async () => {
    seen.length = 0;
    handle = (_req, res, body) => res.writeHead(201, { etag: '"0x1"', "x-ms-request-id": "r1" }).end(`got ${body}`);
    const put = request("/t/x?comp=metadata", { method: "PUT", body: new Uint8Array([104, 105]) });
    put.headers.set("x-ms-meta-a", "b");
    put.headers.set("Content-Length", "2");
    const answer = await smallCallClient().sendRequest(put);
    assert.equal(answer.status, 201);
    assert.equal(answer.headers.get("etag"), '"0x1"');
    assert.equal(answer.headers.get("x-ms-request-id"), "r1");
    assert.equal(answer.bodyAsText, "got hi");
    assert.equal(answer.readableStreamBody, undefined);
    assert.equal(seen[0]?.method, "PUT");
    assert.equal(seen[0]?.url, "/t/x?comp=metadata");
    assert.equal(seen[0]?.headers["x-ms-meta-a"], "b");
    assert.equal(seen[0]?.headers["content-length"], "2");
  });

  it("sets the length of a text body, reuses its connection, and reads a 404 as an answer", async () => {
    seen.length = 0;
    handle = (_req, res) => res.writeHead(404, { "content-type": "application/json" }).end('{"odata.error":{}}');
    const post = request("/Tables", { method: "POST", body: '{"TableName":"ünï"}' });
    const first = await smallCallClient().sendRequest(post);
    const second = await smallCallClient().sendRequest(request("/Tables('x')"));
    await smallCallClient().sendRequest(request("/blob", { method: "PUT", body: new Uint8Array(3) }));
    assert.equal(first.status, 404);
    assert.equal(first.bodyAsText, '{"odata.error":{}}');
    assert.equal(second.status, 404);
    assert.equal(seen[0]?.headers["content-length"], String(Buffer.byteLength('{"TableName":"ünï"}')));
    assert.equal(seen[0]?.body, '{"TableName":"ünï"}');
    assert.equal(seen[2]?.headers["content-length"], "3");
    assert.equal(seen[0]?.socket, seen[1]?.socket, "kept alive");
  });

  it("decompresses an answer only where the request asked for compression, as the default client", async () => {
    const body = gzipSync('{"digest":"sha256:1"}');
    handle = (_req, res) => res.writeHead(200, { "content-encoding": "gzip" }).end(body);
    const asked = request("/t(PartitionKey='p',RowKey='r')");
    asked.headers.set("Accept-Encoding", "gzip,deflate");
    assert.equal((await smallCallClient().sendRequest(asked)).bodyAsText, '{"digest":"sha256:1"}');
    const unasked = await smallCallClient().sendRequest(request("/t(PartitionKey='p',RowKey='r')"));
    assert.equal(unasked.bodyAsText, body.toString("utf8"));
    handle = (_req, res) => res.writeHead(201, { "content-encoding": "gzip" }).end();
    const empty = request("/blob", { method: "PUT", body: "" });
    empty.headers.set("Accept-Encoding", "gzip");
    assert.equal((await smallCallClient().sendRequest(empty)).bodyAsText, "");
    handle = (_req, res) => res.writeHead(200, { "content-length": "5" }).end();
    assert.equal((await smallCallClient().sendRequest(request("/head", { method: "HEAD" }))).bodyAsText, undefined);
  });

  it("fails a broken connection with its code, which the retry policy retries", async () => {
    let calls = 0;
    handle = (req, res) => {
      calls += 1;
      if (calls === 1) req.socket.destroy();
      else res.writeHead(200).end("second");
    };
    const direct = smallCallClient().sendRequest(request("/once"));
    await assert.rejects(direct, (error) => isRestError(error) && error.code === "ECONNRESET");
    const pipeline = createEmptyPipeline();
    pipeline.addPolicy(defaultRetryPolicy({ maxRetries: 2, retryDelayInMs: 1 }), { phase: "Retry" });
    calls = 0;
    const retried = await pipeline.sendRequest(smallCallClient(), request("/twice"));
    assert.equal(retried.bodyAsText, "second");
    assert.equal(calls, 2);
  });

  it("fails an answer that broke off as unreadable, which the retry policy does not retry", async () => {
    let calls = 0;
    handle = (req, res) => {
      calls += 1;
      res.writeHead(202, { "content-length": "100" });
      res.write("partial");
      setTimeout(() => req.socket.destroy(), 10);
    };
    const pipeline = createEmptyPipeline();
    pipeline.addPolicy(defaultRetryPolicy({ maxRetries: 2, retryDelayInMs: 1 }), { phase: "Retry" });
    const batch = pipeline.sendRequest(smallCallClient(), request("/$batch", { method: "POST", body: "--b--" }));
    await assert.rejects(batch, (error) => isRestError(error) && error.code === "PARSE_ERROR");
    assert.equal(calls, 1, "a write storage may have done is not sent again");
  });

  // bounded: a timeout this client wrongly took would never end (the server never answers)
  it(
    "hands a streamed answer, an abort signal, keep-alive off, an agent or a timeout to the SDK's default client",
    { timeout: 10_000 },
    async () => {
      handle = (_req, res) => res.writeHead(200).end("streamed");
      const streamed = await smallCallClient().sendRequest(
        request("/blob", { streamResponseStatusCodes: new Set([200]) }),
      );
      assert.ok(streamed.readableStreamBody, "the default client streams the answer");
      streamed.readableStreamBody?.resume();
      const aborted = new AbortController();
      aborted.abort();
      await assert.rejects(
        smallCallClient().sendRequest(request("/aborted", { abortSignal: aborted.signal })),
        (error: Error) => error.name === "AbortError",
      );
      await smallCallClient().sendRequest(request("/kept"));
      const kept = seen.at(-1)?.socket;
      const closing = await smallCallClient().sendRequest(request("/closing", { disableKeepAlive: true }));
      assert.equal(closing.status, 200);
      assert.notEqual(seen.at(-1)?.socket, kept, "not on the small-call client's kept-alive connection");
      // a proxy's agent, as the pipeline's proxy policy sets it: the default client sends through it
      const proxied = await smallCallClient().sendRequest(
        request("/proxied", { agent: new Agent({ keepAlive: false }) as PipelineRequest["agent"] }),
      );
      assert.equal(proxied.status, 200);
      assert.equal(seen.at(-1)?.headers.connection, "close", "through the given agent");
      handle = () => undefined; // never answers
      await assert.rejects(smallCallClient().sendRequest(request("/slow", { timeout: 50 })), (error: Error) =>
        /timed out|aborted/i.test(error.message),
      );
    },
  );

  it("leaves plain HTTP without the client's consent to the default client, which refuses it", async () => {
    const insecure = createPipelineRequest({ url: `${base}/t` });
    await assert.rejects(smallCallClient().sendRequest(insecure), /allowInsecureConnection/);
  });
});
