import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { startAzurite, type AzuriteInstance } from "../../shared/server/azurite.js";
import { createAuthRegistry, type AuthRegistry } from "../auth/support.js";

const TIMEOUT_MS = 400;
/** Bounds of the polling loops below (the readiness answer is cached for 1.5 s). */
const POLLS = 40;
const POLL_MS = 250;

/**
 * The probes against an Azurite of this file's own, which the tests stop, stand in for with a
 * server that never answers, and restart on the same ports (data on disk, so the tables stay).
 */
describe("probes: /healthz and /readyz", () => {
  let dataDir: string;
  let azurite: AzuriteInstance | undefined;
  let registry: AuthRegistry;

  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), "stw-probes-"));
    azurite = await startAzurite({ location: dataDir });
    registry = await createAuthRegistry(azurite.connectionString, {
      STOWAGE_ADMIN_PASSWORD: "probe-admin-password",
      STOWAGE_READYZ_TIMEOUT_MS: String(TIMEOUT_MS),
    });
  });
  after(async () => {
    await azurite?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  /** GET /readyz, with how long it took to answer. */
  const ready = async () => {
    const started = Date.now();
    const response = await registry.fetch("/readyz");
    const body = (await response.json()) as { status: string; checks: Record<string, string> };
    return { status: response.status, body, ms: Date.now() - started, id: response.headers.get("x-request-id") };
  };

  /** Polls /readyz until it answers `status` (bounded); every answer must come within the timeout. */
  const untilReady = async (status: number) => {
    for (let i = 0; i < POLLS; i++) {
      const answer = await ready();
      assert.ok(answer.ms < TIMEOUT_MS + 1000, `/readyz took ${answer.ms} ms`);
      if (answer.status === status) return answer;
      await sleep(POLL_MS);
    }
    throw new Error(`/readyz never answered ${status}`);
  };

  it("/healthz answers 200 without credentials, GET and HEAD, and refuses other methods", async () => {
    const response = await registry.fetch("/healthz");
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { status: "ok" });
    assert.equal(response.headers.get("cache-control"), "no-store");
    assert.match(response.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
    const head = await registry.fetch("/healthz", { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), "");
    const post = await registry.fetch("/healthz", { method: "POST" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD");
  });

  it("/readyz answers 200 with each check while storage answers", async () => {
    const answer = await ready();
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, { status: "ready", checks: { storage: "ok" } });
  });

  it("/metrics is an unknown endpoint while metrics are off", async () => {
    const response = await registry.fetch("/metrics");
    assert.equal(response.status, 404);
  });

  it("/readyz answers 503 within its timeout while storage is down or hangs, /healthz stays 200, and it recovers", async () => {
    const current = azurite as AzuriteInstance;
    const ports = current.ports;
    await current.stop();
    azurite = undefined;
    const refused = await untilReady(503);
    assert.equal(refused.body.status, "unavailable");
    // refused connections are retried by the SDK, so either may come first
    assert.ok(["failed", "timeout"].includes(refused.body.checks.storage as string), refused.body.checks.storage);
    assert.equal((await registry.fetch("/healthz")).status, 200);

    // storage that takes connections and never answers: the timeout decides
    const sockets = new Set<Socket>();
    const hanging: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on("error", () => undefined);
    });
    await new Promise<void>((resolve) => hanging.listen(ports.table, "127.0.0.1", resolve));
    try {
      let timedOut: Awaited<ReturnType<typeof ready>> | undefined;
      for (let i = 0; i < POLLS && !timedOut; i++) {
        const answer = await ready();
        assert.ok(answer.ms < TIMEOUT_MS + 1000, `/readyz took ${answer.ms} ms`);
        if (answer.body.checks.storage === "timeout") timedOut = answer;
        else await sleep(POLL_MS);
      }
      assert.ok(timedOut, "/readyz never reported the storage timeout");
      assert.equal(timedOut.status, 503);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => hanging.close(resolve));
    }

    azurite = await startAzurite({ location: dataDir, ports });
    const recovered = await untilReady(200);
    assert.deepEqual(recovered.body, { status: "ready", checks: { storage: "ok" } });
  });
});
