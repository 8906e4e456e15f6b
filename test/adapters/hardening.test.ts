import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createNodeServer } from "../../shared/adapters/node-http.js";
import type { RequestObserver } from "../../shared/http/fetch-handler.js";
import { openAccess } from "../../shared/http/authorizer.js";
import { useAzurite } from "../helpers/azurite.js";
import { sha256 } from "../helpers/content.js";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { httpsRequest } from "../helpers/https-get.js";
import { open as openSocket, rawRequest as rawRequestOver, trickle, type RawOptions } from "../helpers/raw-http.js";
import { createTestCa } from "../helpers/test-ca.js";
import { createTestApp } from "../helpers/registry.js";
import { listenOnLoopback } from "../helpers/listening.js";

/**
 * The Node adapter against hostile or careless clients, over raw sockets: what the request
 * target may and may not do, early answers that must reach a client that is still sending,
 * and the limits that keep slow clients from holding connections.
 */
/** The same limits hold when the server is its own TLS front door. */
const TRANSPORTS = [
  { name: "HTTP", tls: false },
  { name: "HTTPS", tls: true },
];

for (const transport of TRANSPORTS)
  describe(`Node server under hostile clients (${transport.name})`, () => {
    const azurite = useAzurite();
    let port: number;
    let close: () => Promise<void>;
    let rawTls: RawOptions["tls"];
    // every raw exchange below goes over the transport under test
    const open = (p: number, localAddress?: string) => openSocket(p, localAddress, rawTls);
    const rawRequest = (p: number, head: string, options: RawOptions = {}) =>
      rawRequestOver(p, head, { ...options, ...(rawTls ? { tls: rawTls } : {}) });
    /** A whole request over the transport under test (fetch cannot be given the test CA). */
    const send = async (path: string, init: { method?: string; body?: Buffer } = {}) => {
      if (!rawTls) {
        const response = await fetch(`http://127.0.0.1:${port}${path}`, init);
        return { status: response.status, body: Buffer.from(await response.arrayBuffer()) };
      }
      const answer = await httpsRequest(`https://127.0.0.1:${port}${path}`, { ...init, ca: rawTls.ca, agent: false });
      return { status: answer.status, body: Buffer.from(answer.body) };
    };
    const observed: { method: string; path: string; status: number }[] = [];
    const limits = {
      headersTimeoutMs: 2000,
      idleTimeoutMs: 3000,
      minBodyBytesPerSecond: 1024,
      maxConnections: 1000,
      maxConnectionsPerAddress: 20,
    };

    before(async () => {
      const observe: RequestObserver = (request, response) =>
        observed.push({ method: request.method, path: new URL(request.url).pathname, status: response.status });
      const app = await createTestApp(
        azurite().connectionString,
        { STOWAGE_MAX_MANIFEST_BYTES: "65536" },
        { authorizer: openAccess, observe },
      );
      await app.fetch(`/v2/hostile/app/blobs/uploads/?digest=${sha256("x")}`, { method: "POST", body: "x" });
      let tls;
      if (transport.tls) {
        const ca = createTestCa(mkdtempSync(join(tmpdir(), "stw-hardening-ca-")));
        const leaf = ca.issue("server");
        tls = { cert: readFileSync(leaf.certFile), key: readFileSync(leaf.keyFile) };
        rawTls = { ca: ca.rootPem };
      }
      const server = createNodeServer(app.handle, limits, tls);
      ({ port, close } = await listenOnLoopback(server));
    });
    after(() => close());

    const get = (path: string, host = `127.0.0.1:${port}`, method = "GET") =>
      rawRequest(port, `${method} ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    const code = (body: string) => (JSON.parse(body) as { errors: { code: string }[] }).errors[0]?.code;

    it("takes the path from the request target alone: a Host header cannot rewrite it", async () => {
      const smuggled = await get("/v2/", `127.0.0.1:${port}/v2/hostile/app/tags/list?`);
      assert.equal(smuggled.status, 400);
      assert.doesNotMatch(smuggled.body, /tags/);
      assert.equal((await get("/v2/", "a b")).status, 400);
      assert.equal((await get("/v2/", "evil@host")).status, 400);
      assert.equal((await get("/v2/")).status, 200);
      const absolute = await get(`http://127.0.0.1:${port}/v2/_catalog`);
      assert.equal(absolute.status, 200, "absolute-form targets (from proxies) keep their own path");
      assert.deepEqual(JSON.parse(absolute.body), { repositories: [] });
    });

    it("refuses dot segments and backslashes that URL parsing would resolve, as bad names under /v2/", async () => {
      for (const path of [
        "/v2/%2e%2e/hostile/app/tags/list",
        "/v2/hostile/%2E%2E/app/tags/list",
        "/v2/../v2/_catalog",
        "/v2/a/./b/tags/list",
        "/v2/hostile\\app/tags/list",
      ]) {
        const response = await get(path);
        assert.equal(response.status, 400, path);
        assert.equal(code(response.body), "NAME_INVALID", path);
      }
    });

    it("answers methods the fetch API cannot carry (TRACE) with 405 and Allow, not 500", async () => {
      for (const method of ["TRACE", "PROPFIND", "OPTIONS"]) {
        const response = await get("/v2/", undefined, method);
        assert.equal(response.status, 405, method);
        assert.match(response.headers.allow ?? "", /GET/);
        assert.equal(code(response.body), "UNSUPPORTED");
      }
    });

    it("answers what HTTP itself cannot parse with the registry's error JSON too", async () => {
      const unknownMethod = await get("/v2/", undefined, "TRACK");
      assert.equal(unknownMethod.status, 400);
      assert.equal(code(unknownMethod.body), "UNSUPPORTED");
      const huge = await rawRequest(port, `GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(20_000)}\r\n\r\n`);
      assert.equal(huge.status, 431);
      assert.equal(code(huge.body), "UNSUPPORTED");
    });

    it("lets a client that writes its whole body before reading see an early 413 (no Expect)", async () => {
      const body = Buffer.alloc(5 * 1024 * 1024, 0x7b);
      const head =
        `PUT /v2/hostile/app/manifests/big HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
        `Content-Type: application/vnd.oci.image.manifest.v1+json\r\nContent-Length: ${body.length}\r\n\r\n`;
      const response = await rawRequest(port, head, { body, timeoutMs: 15_000 });
      assert.equal(response.status, 413);
      assert.equal(code(response.body), "SIZE_INVALID");
    });

    it("sends 100 Continue only when the body is wanted: an early refusal never asks for it", async () => {
      const refused = await rawRequest(
        port,
        `PUT /v2/hostile/app/manifests/big HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nExpect: 100-continue\r\n` +
          `Content-Type: application/vnd.oci.image.manifest.v1+json\r\nContent-Length: 10000000\r\n\r\n`,
      );
      assert.equal(refused.status, 413);
      assert.equal(refused.continued, false);
      assert.equal(refused.headers.connection, "close", "the body it announced will never come");
      const data = "continued body";
      const socket = await open(port);
      socket.write(
        `POST /v2/hostile/app/blobs/uploads/?digest=${sha256(data)} HTTP/1.1\r\nHost: x\r\n` +
          `Expect: 100-continue\r\nContent-Length: ${data.length}\r\n\r\n`,
      );
      let text = "";
      await new Promise<void>((resolve) => {
        socket.on("data", (chunk: Buffer) => {
          text += chunk.toString();
          if (text === "HTTP/1.1 100 Continue\r\n\r\n") socket.write(data); // told to go on: send it
          if (/\r\n\r\n.*\r\n\r\n/s.test(text)) resolve();
        });
      });
      socket.destroy();
      assert.match(text, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 201 /);
    });

    it("closes a connection whose headers trickle, within the headers timeout", async () => {
      const socket = await open(port, "127.0.3.1");
      const took = await trickle(socket, `GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Slow: ${"a".repeat(100)}\r\n\r\n`, 200);
      assert.ok(took < limits.headersTimeoutMs + 2500, `closed after ${took} ms`);
    });

    it("closes a connection whose body trickles below the minimum rate, and logs it as the client's doing", async () => {
      const start = await rawRequest(
        port,
        `POST /v2/hostile/slow/blobs/uploads/ HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`,
      );
      const location = start.headers.location as string;
      const socket = await open(port, "127.0.3.2");
      socket.write(`PATCH ${location} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n`);
      const took = await trickle(socket, "x".repeat(1000), 500);
      assert.ok(took < limits.idleTimeoutMs + 2500, `closed after ${took} ms`);
      await new Promise((resolve) => setTimeout(resolve, 200));
      const path = new URL(location, "http://registry.test").pathname;
      const patch = observed.find((o) => o.method === "PATCH" && o.path === path);
      assert.equal(patch?.status, 499, "an aborted body is not a server error");
    });

    it("closes 500 connections trickling headers within the timeout, while a push and a pull go through", async () => {
      // 25 client addresses x 20 connections: the per-address limit, 500 in all
      const sockets = await Promise.all(Array.from({ length: 500 }, (_, i) => open(port, `127.0.5.${1 + (i % 25)}`)));
      const closedAfter = Promise.all(
        sockets.map((socket) =>
          trickle(socket, `GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Slow: ${"a".repeat(100)}\r\n\r\n`, 500),
        ),
      );
      const base = `/v2/hostile/busy`;
      const layer = Buffer.alloc(256 * 1024, 3);
      const pushed = await send(`${base}/blobs/uploads/?digest=${sha256(layer)}`, { method: "POST", body: layer });
      assert.equal(pushed.status, 201, pushed.body.toString());
      const pulled = await send(`${base}/blobs/${sha256(layer)}`);
      assert.equal(pulled.status, 200);
      assert.ok(pulled.body.equals(layer));
      const took = await closedAfter;
      // over TLS the handshake comes first, bounded by the same timeout (handshakeTimeout)
      const bound = (transport.tls ? 2 : 1) * limits.headersTimeoutMs + 2500;
      assert.ok(Math.max(...took) < bound, `last closed after ${Math.max(...took)} ms`);
    });

    it("does not cut a slow but steady upload", async () => {
      const start = await rawRequest(
        port,
        `POST /v2/hostile/steady/blobs/uploads/ HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`,
      );
      const data = Buffer.alloc(4 * 4096 * 3, 7); // ~2.5 s at 4 KiB per 200 ms: below a window's length... and past it
      const socket = await open(port, "127.0.3.3");
      socket.write(`PATCH ${start.headers.location} HTTP/1.1\r\nHost: x\r\nContent-Length: ${data.length * 2}\r\n\r\n`);
      const all = Buffer.concat([data, data]);
      const answer = new Promise<string>((resolve) => {
        let text = "";
        socket.on("data", (chunk: Buffer) => {
          text += chunk.toString();
          if (text.includes("\r\n\r\n")) resolve(text);
        });
        socket.on("close", () => resolve(text));
      });
      for (let offset = 0; offset < all.length; offset += 4096) {
        socket.write(all.subarray(offset, offset + 4096));
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.match(await answer, /^HTTP\/1\.1 202 /);
      socket.destroy();
    });

    it("refuses connections beyond the per-address limit, and only from that address", async () => {
      const sockets = await Promise.all(
        Array.from({ length: limits.maxConnectionsPerAddress }, () => open(port, "127.0.4.4")),
      );
      const extra = await open(port, "127.0.4.4");
      const closed = await new Promise<boolean>((resolve) => {
        extra.once("close", () => resolve(true));
        setTimeout(() => resolve(false), 2000);
      });
      assert.ok(closed, "the connection over the limit was closed");
      assert.equal(
        (await rawRequest(port, `GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n`, { localAddress: "127.0.4.5" })).status,
        200,
      );
      sockets.forEach((socket) => socket.destroy());
    });
  });
