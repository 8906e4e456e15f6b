import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { copyFileSync, mkdtempSync, readFileSync } from "node:fs";
import { request, Agent } from "node:https";
import type { AddressInfo } from "node:net";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Server as TlsServer } from "node:tls";
import { after, before, describe, it } from "node:test";
import { gracefulShutdown } from "../../shared/adapters/graceful-shutdown.js";
import { createNodeServer, type NodeServer } from "../../shared/adapters/node-http.js";
import type { TlsConfig } from "../../shared/app/config.js";
import { loadTlsCredentials } from "../../shared/server/tls-credentials.js";
import { reloadTlsOnChange } from "../../shared/server/tls-reloader.js";
import { FileSecretStore } from "../../shared/storage/local/file-secret-store.js";
import { useAzurite } from "../helpers/azurite.js";
import { httpsRequest } from "../helpers/https-get.js";
import { createTestApp, createTestRegistry } from "../helpers/registry.js";
import { createTestCa, type IssuedCertificate, type TestCa } from "../helpers/test-ca.js";
import type { FetchHandler } from "../../shared/http/fetch-handler.js";
import type { ServerLimits } from "../../shared/app/config.js";

const LIMITS: ServerLimits = {
  headersTimeoutMs: 2000,
  idleTimeoutMs: 5000,
  minBodyBytesPerSecond: 1,
  maxConnections: 100,
  maxConnectionsPerAddress: 50,
};

/**
 * The Node server as a TLS front door: where its certificate comes from (PEM, PFX with
 * password, a secret), renewal without a restart, keep-alive, the handshake bound, and a
 * shutdown that lets uploads in progress finish.
 */
describe("Node server over TLS", () => {
  const azurite = useAzurite();
  let ca: TestCa;
  let first: IssuedCertificate;
  let second: IssuedCertificate;
  let dir: string;
  /** Open access (uploads without tokens), and the real token auth (for the challenge). */
  let handle: FetchHandler;
  let authHandle: FetchHandler;
  const servers: NodeServer[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "stw-tls-"));
    ca = createTestCa(join(dir, "ca"));
    first = ca.issue("first");
    second = ca.issue("second");
    handle = (await createTestRegistry(azurite().connectionString)).handle;
    authHandle = (await createTestApp(azurite().connectionString)).handle;
  });
  after(() => {
    for (const server of servers) server.closeAllConnections();
    for (const server of servers) server.close();
  });

  async function listen(config: TlsConfig, app = handle): Promise<{ server: NodeServer; url: string }> {
    const credentials = await loadTlsCredentials(config);
    const server = createNodeServer(app, LIMITS, credentials.options);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return { server, url: `https://127.0.0.1:${(server.address() as AddressInfo).port}` };
  }
  const fingerprint = (cert: IssuedCertificate) => new X509Certificate(cert.leafPem).fingerprint256;
  const pem = (cert: IssuedCertificate): TlsConfig => ({
    source: { kind: "pem", certFile: cert.certFile, keyFile: cert.keyFile },
    reloadMs: 60_000,
  });

  it("serves PEM files with the chain, keeps connections alive, and challenges with an https realm", async () => {
    const { url } = await listen(pem(first), authHandle);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const one = await httpsRequest(`${url}/v2/`, { ca: ca.rootPem, agent });
      const two = await httpsRequest(`${url}/v2/`, { ca: ca.rootPem, agent });
      assert.equal(one.status, 401);
      assert.equal(one.peerFingerprint, fingerprint(first));
      assert.match(String(one.headers["www-authenticate"]), new RegExp(`realm="${url}/token"`));
      assert.equal(two.reusedSocket, true, "the second request went over the first connection (keep-alive)");
    } finally {
      agent.destroy();
    }
  });

  it("serves a PFX with its password, and refuses to start with a wrong one", async () => {
    const source = { kind: "pfx" as const, pfxFile: first.pfxFile, passphrase: first.pfxPassword };
    const { url } = await listen({ source, reloadMs: 60_000 });
    assert.equal((await httpsRequest(`${url}/v2/`, { ca: ca.rootPem })).peerFingerprint, fingerprint(first));
    await assert.rejects(loadTlsCredentials({ source: { ...source, passphrase: "wrong" }, reloadMs: 1000 }));
  });

  it("reads the certificate from a secret: a base64 PFX (as Key Vault keeps one) or PEM", async () => {
    const secrets = new FileSecretStore(join(dir, "secrets"));
    await secrets.add("tls-pfx", readFileSync(second.pfxFile).toString("base64"));
    await secrets.add("tls-pem", readFileSync(second.keyFile, "utf8") + readFileSync(second.certFile, "utf8"));
    for (const [secretName, passphrase] of [
      ["tls-pfx", second.pfxPassword],
      ["tls-pem", undefined],
    ] as const) {
      const credentials = await loadTlsCredentials(
        { source: { kind: "secret", secretName, passphrase }, reloadMs: 1000 },
        secrets,
      );
      const server = createNodeServer(handle, LIMITS, credentials.options);
      servers.push(server);
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
      assert.equal(
        (await httpsRequest(`${url}/v2/`, { ca: ca.rootPem })).peerFingerprint,
        fingerprint(second),
        secretName,
      );
    }
    await assert.rejects(
      loadTlsCredentials(
        { source: { kind: "secret", secretName: "absent", passphrase: undefined }, reloadMs: 1000 },
        secrets,
      ),
      /not found/,
    );
  });

  it("serves a renewed certificate without a restart, and keeps the old one while the new files do not match", async () => {
    const files = { certFile: join(dir, "live.crt"), keyFile: join(dir, "live.key") };
    copyFileSync(first.certFile, files.certFile);
    copyFileSync(first.keyFile, files.keyFile);
    const config: TlsConfig = { source: { kind: "pem", ...files }, reloadMs: 100 };
    const credentials = await loadTlsCredentials(config);
    const { server, url } = await listen(config);
    const lines: string[] = [];
    const stop = reloadTlsOnChange(server as TlsServer, config, credentials, (line) => lines.push(line));
    try {
      const presented = async () =>
        (await httpsRequest(`${url}/v2/`, { ca: ca.rootPem, agent: false })).peerFingerprint;
      // half a renewal: the new key beside the old certificate
      copyFileSync(second.keyFile, files.keyFile);
      await until(() => lines.some((l) => l.includes("keeping the current certificate")));
      assert.equal(await presented(), fingerprint(first), "the old certificate stays in service");
      copyFileSync(second.certFile, files.certFile);
      await until(async () => (await presented()) === fingerprint(second));
      assert.ok(
        lines.some((l) => l.includes("certificate reloaded")),
        lines.join("\n"),
      );
    } finally {
      stop();
    }
  });

  it("closes a connection that never completes its handshake, within the headers timeout", async () => {
    const { url } = await listen(pem(first));
    const socket = connect({ port: Number(new URL(url).port), host: "127.0.0.1" });
    socket.on("error", () => undefined);
    const closed = await new Promise<boolean>((resolve) => {
      socket.once("close", () => resolve(true));
      setTimeout(() => resolve(false), LIMITS.headersTimeoutMs + 5000);
    });
    assert.ok(closed, "a silent client does not hold the socket");
  });

  /** A blob upload streamed in pieces over its own connection; `send` writes the next piece. */
  async function streamingUpload(server: NodeServer, url: string) {
    const start = await httpsRequest(`${url}/v2/tls/shutdown/blobs/uploads/`, { method: "POST", ca: ca.rootPem });
    assert.equal(start.status, 202);
    const location = String(start.headers.location);
    let sent = 0;
    const received = new Promise<void>((resolve) => server.once("request", () => resolve()));
    const req = request(`${url}${location}`, {
      method: "PATCH",
      ca: ca.rootPem,
      agent: false,
      headers: { "content-type": "application/octet-stream" },
    });
    const answer = new Promise<number>((resolve, reject) => {
      req.on("response", (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      });
      req.on("error", reject);
    });
    const send = async () => {
      await new Promise<void>((resolve) => req.write(Buffer.alloc(64 * 1024, sent++), () => resolve()));
    };
    return { answer, send, received, end: () => req.end() };
  }

  it("on shutdown, stops taking connections but lets an upload in progress finish", async () => {
    const { server, url } = await listen(pem(first));
    const shutdown = gracefulShutdown(server);
    const upload = await streamingUpload(server, url);
    await upload.send();
    await upload.received;
    const done = shutdown.shutdown(30_000);
    await assert.rejects(httpsRequest(`${url}/v2/`, { ca: ca.rootPem, agent: false }), "no new connections");
    for (let i = 0; i < 4; i++) await upload.send();
    upload.end();
    assert.equal(await upload.answer, 202, "the upload in progress was answered");
    assert.equal(await done, 0, "nothing was cut off");
  });

  it("on shutdown, cuts an upload that does not finish within the grace period", async () => {
    const { server, url } = await listen(pem(first));
    const shutdown = gracefulShutdown(server);
    const upload = await streamingUpload(server, url);
    await upload.send();
    await upload.received;
    assert.equal(await shutdown.shutdown(500), 1, "the stalled upload was cut off");
    await assert.rejects(upload.answer);
  });
});

/** Polls a condition every 100 ms, for at most 15 s. */
async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 150; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.fail("condition not met within 15 s");
}
