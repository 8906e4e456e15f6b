import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { buildApp, type App } from "../../shared/app/build-app.js";
import type { Config } from "../../shared/app/config.js";
import { secretNames } from "../../shared/app/secret-store.js";
import type { LogRecord } from "../../shared/lib/log-writer.js";
import { FileSecretStore } from "../../shared/storage/local/file-secret-store.js";
import { basic } from "../auth/support.js";
import { useAzurite } from "../helpers/azurite.js";
import { imageManifest, randomBlob } from "../helpers/content.js";
import { isolatedConfig } from "../helpers/registry.js";
import { Receiver } from "../webhooks/receiver.js";

const ADMIN_PASSWORD = "metrics-admin-password";
const WRONG_PASSWORD = "not-the-password-at-all";
const METRICS_TOKEN = "metrics-bearer-token-0123456789";
const WEBHOOK_SECRET = "webhook-secret-0123456789abcdef";
const REPOSITORY = "observed/app-7f3a";
const CLIENT = "127.0.0.9";
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

/** One sample line of the text exposition format: name, optional labels, value. */
const SAMPLE =
  /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\.)*",?)*\})? (-?[0-9.]+(?:e[+-]?[0-9]+)?|NaN|[+-]Inf)$/;
const COMMENT = /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$/;

/** Parses the exposition strictly: every line a comment or a sample; samples keyed by name and labels. */
function parseMetrics(text: string): Map<string, number> {
  const samples = new Map<string, number>();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    if (line.startsWith("#")) {
      assert.match(line, COMMENT);
      continue;
    }
    const match = SAMPLE.exec(line);
    assert.ok(match, `not a sample line: ${line}`);
    samples.set(`${match[1]}${match[2] ?? ""}`, Number(match[3]));
  }
  return samples;
}

describe("metrics, request logs and the audit trail over a scripted flow", () => {
  const azurite = useAzurite();
  let app: App;
  let config: Config;
  let receiver: Receiver;
  const lines: LogRecord[] = [];
  const remarks: string[] = [];
  const secrets: string[] = [ADMIN_PASSWORD, WRONG_PASSWORD, METRICS_TOKEN, WEBHOOK_SECRET];
  let secretStore: FileSecretStore;

  const call = (path: string, init: RequestInit & { duplex?: "half" } = {}, from = CLIENT) =>
    app.handle(new Request(`http://registry.test${path}`, init), { clientAddress: from });
  const scrape = async (from = CLIENT, token: string | null = METRICS_TOKEN) => {
    const response = await call("/metrics", token ? { headers: { authorization: `Bearer ${token}` } } : {}, from);
    return { status: response.status, text: await response.text(), type: response.headers.get("content-type") };
  };
  const login = async (password: string, scope: string) => {
    const response = await call(`/token?service=stowage&scope=${encodeURIComponent(scope)}`, {
      headers: { authorization: basic("admin", password) },
    });
    const body = (await response.json()) as { token?: string };
    if (body.token) secrets.push(body.token);
    return { status: response.status, token: body.token };
  };

  before(async () => {
    receiver = await Receiver.start();
    config = isolatedConfig(azurite().connectionString, {
      STOWAGE_ADMIN_PASSWORD: ADMIN_PASSWORD,
      STOWAGE_METRICS: "token",
      STOWAGE_METRICS_TOKEN: METRICS_TOKEN,
    });
    secretStore = new FileSecretStore(await mkdtemp(join(tmpdir(), "stw-secrets-")));
    app = await buildApp(config, {
      connectionString: azurite().connectionString,
      secrets: secretStore,
      accessLog: true,
      logs: (record) => lines.push(record),
      log: (line) => remarks.push(line),
    });
    await app.prepare();
  });
  after(async () => {
    await receiver.down();
  });

  it("counts a push, pull, failed login and delete, with bounded labels, in a strictly parsed exposition", async () => {
    const before = parseMetrics((await scrape()).text);
    const at = (samples: Map<string, number>, key: string) => samples.get(key) ?? 0;

    await app.webhooks.directory.add({ name: "ci", url: receiver.url("/hook?key=abc"), secret: WEBHOOK_SECRET });
    const userPassword = "user-password-for-alice";
    secrets.push(userPassword);
    await app.auth.admin.addUser({ name: "alice", access: [`${REPOSITORY}:pull`] }, userPassword);
    secrets.push(await app.auth.admin.createToken({ name: "ci-token", access: [`${REPOSITORY}:pull`] }));

    assert.equal((await login(WRONG_PASSWORD, `repository:${REPOSITORY}:pull`)).status, 401);
    const { token } = await login(ADMIN_PASSWORD, `repository:${REPOSITORY}:pull,push,delete`);
    const auth = { authorization: `Bearer ${token}` };

    const configBlob = randomBlob(64);
    const layer = randomBlob(2048);
    for (const blob of [configBlob, layer]) {
      const pushed = await call(`/v2/${REPOSITORY}/blobs/uploads/?digest=${encodeURIComponent(blob.digest)}`, {
        method: "POST",
        headers: { ...auth, "content-type": "application/octet-stream" },
        body: blob.data,
      });
      assert.equal(pushed.status, 201, await pushed.text());
    }
    const manifest = imageManifest({ digest: configBlob.digest, size: 64 }, [{ digest: layer.digest, size: 2048 }]);
    const put = await call(`/v2/${REPOSITORY}/manifests/v1`, {
      method: "PUT",
      headers: { ...auth, "content-type": OCI_MANIFEST },
      body: manifest,
    });
    assert.equal(put.status, 201, await put.text());
    const pushId = put.headers.get("x-request-id");
    const digest = put.headers.get("docker-content-digest") as string;
    const pulled = await call(`/v2/${REPOSITORY}/manifests/v1`, { headers: { ...auth, accept: OCI_MANIFEST } });
    assert.equal(pulled.status, 200);
    assert.equal(await pulled.text(), manifest);
    const deleted = await call(`/v2/${REPOSITORY}/manifests/${digest}`, { method: "DELETE", headers: auth });
    assert.equal(deleted.status, 202, await deleted.text());

    // the webhook: the queued push event, fanned out and delivered (signed with the secret)
    const [event] = await app.webhooks.events.receive(1, 30);
    assert.ok(event);
    assert.equal(await app.webhooks.service.fanOut(event.text), 1);
    await event.remove();
    const [task] = await app.webhooks.deliveries.receive(1, 30);
    assert.ok(task);
    assert.equal(await app.webhooks.service.deliver(task.text), "delivered");
    await task.remove();
    const delivered = JSON.parse(receiver.received[0]?.body ?? "{}") as { events: { request: { id: string } }[] };
    assert.equal(delivered.events[0]?.request.id, pushId, "the event carries the push's request id");

    const scraped = await scrape();
    assert.equal(scraped.status, 200);
    assert.match(scraped.type ?? "", /^text\/plain; version=0\.0\.4/);
    const afterFlow = parseMetrics(scraped.text);
    const moved = (key: string) => at(afterFlow, key) - at(before, key);
    const manifests = 'route="/v2/{name}/manifests/{reference}"';
    assert.equal(moved('stowage_tokens_issued_total{grant="password"}'), 1);
    assert.equal(moved('stowage_login_failures_total{reason="invalid_credentials"}'), 1);
    assert.equal(moved(`stowage_http_request_duration_seconds_count{${manifests},method="PUT",status_class="2xx"}`), 1);
    assert.equal(moved(`stowage_http_request_duration_seconds_count{${manifests},method="GET",status_class="2xx"}`), 1);
    assert.equal(
      moved(`stowage_http_request_duration_seconds_count{${manifests},method="DELETE",status_class="2xx"}`),
      1,
    );
    assert.equal(
      moved('stowage_http_request_duration_seconds_count{route="/token",method="GET",status_class="4xx"}'),
      1,
    );
    assert.equal(moved("stowage_uploads_started_total"), 2);
    assert.equal(moved("stowage_uploads_completed_total"), 2);
    assert.equal(moved("stowage_uploads_in_progress"), 0);
    assert.equal(moved('stowage_webhook_events_queued_total{action="push"}'), 1);
    assert.equal(moved('stowage_webhook_events_queued_total{action="delete"}'), 1);
    assert.equal(moved('stowage_webhook_deliveries_total{outcome="delivered"}'), 1);
    assert.equal(moved('stowage_webhook_queue_age_seconds_count{queue="events"}'), 1);
    assert.ok(moved(`stowage_http_received_bytes_total{${manifests}}`) >= manifest.length);
    assert.ok(moved(`stowage_http_sent_bytes_total{${manifests}}`) >= manifest.length);
    const storageCalls = [...afterFlow]
      .filter(([key]) => key.startsWith("stowage_storage_request_duration_seconds_count{"))
      .reduce((sum, [, value]) => sum + value, 0);
    assert.ok(storageCalls > 10, `storage calls counted: ${storageCalls}`);
    assert.ok(
      afterFlow.has(
        'stowage_storage_request_duration_seconds_count{service="table",operation="POST batch",outcome="2xx"}',
      ),
    );

    // bounded labels: no repository, digest or user in any label; routes are templates
    const labelValues = [...scraped.text.matchAll(/="((?:[^"\\]|\\.)*)"/g)].map((m) => m[1] as string);
    for (const value of labelValues) {
      assert.ok(!value.includes("observed") && !value.includes("sha256") && !value.includes("admin"), value);
    }
    const routes = new Set([...scraped.text.matchAll(/route="([^"]*)"/g)].map((m) => m[1]));
    for (const route of routes) assert.match(route as string, /^(\/v2\/.*|\/token|\/metrics|unmatched)$/);
    assert.ok(routes.size <= 12, [...routes].join(" "));
  });

  it("guards /metrics with its bearer token", async () => {
    assert.equal((await scrape(CLIENT, null)).status, 401);
    assert.equal((await scrape(CLIENT, "wrong-token-wrong-token")).status, 401);
  });

  it("serves /metrics in loopback mode only to this machine, and never through a proxy", async () => {
    const local = await buildApp(
      isolatedConfig(azurite().connectionString, {
        STOWAGE_ADMIN_PASSWORD: ADMIN_PASSWORD,
        STOWAGE_METRICS: "loopback",
      }),
      { connectionString: azurite().connectionString, secrets: secretStore, logs: () => undefined },
    );
    const get = (from: string, headers: Record<string, string> = {}) =>
      local.handle(new Request("http://registry.test/metrics", { headers }), { clientAddress: from });
    assert.equal((await get("127.0.0.1")).status, 200);
    assert.equal((await get("::1")).status, 200);
    assert.equal((await get("::ffff:127.0.0.1")).status, 200);
    assert.equal((await get("10.1.2.3")).status, 403);
    assert.equal((await get("127.0.0.1", { "x-forwarded-for": "203.0.113.7" })).status, 403);
  });

  it("logs one structured line per request, with the route template and no names from the path", () => {
    const requests = lines.filter((line) => line.msg === "request");
    assert.ok(requests.length >= 8, `${requests.length} request lines`);
    for (const line of requests) {
      for (const field of ["requestId", "method", "route", "status", "durationMs", "bytesIn", "bytesOut"])
        assert.ok(line[field] !== undefined, `${field} missing in ${JSON.stringify(line)}`);
      assert.equal(line.clientAddress, CLIENT);
      assert.ok(!JSON.stringify(line).includes(REPOSITORY), JSON.stringify(line));
    }
    const put = requests.find((line) => line.method === "PUT" && line.route === "/v2/{name}/manifests/{reference}");
    assert.equal(put?.principal, "admin");
    assert.equal(put?.status, 201);
  });

  it("writes audit lines with a stable marker for logins, identity and webhook changes, pushes and deletes", () => {
    const audit = lines.filter((line) => line.audit === true);
    const events = audit.map((line) => `${line.event}:${line.outcome}`);
    for (const expected of [
      "webhook.add:success",
      "user.add:success",
      "token.create:success",
      "login:failure",
      "login:success",
      "manifest.push:success",
      "manifest.delete:success",
    ])
      assert.ok(events.includes(expected), `${expected} missing from ${events.join(" ")}`);
    const failed = audit.find((line) => line.event === "login" && line.outcome === "failure");
    assert.equal(failed?.actor, "admin");
    assert.equal(failed?.address, CLIENT);
    assert.equal(failed?.reason, "invalid_credentials");
    const push = audit.find((line) => line.event === "manifest.push");
    assert.equal(push?.actor, "admin");
    assert.equal(push?.address, CLIENT);
    assert.deepEqual(Object.keys(push?.target as object).sort(), ["digest", "repository", "size", "tag"]);
    const webhook = audit.find((line) => line.event === "webhook.add");
    assert.deepEqual(webhook?.target, { name: "ci", endpoint: `http://127.0.0.1:${receiver.port}` });
  });

  it("leaks no password, token, webhook secret or key material into any log line", async () => {
    const signingKey = await secretStore.latest(secretNames(config.auth).signingKey);
    assert.ok(signingKey);
    const jwk = JSON.parse(signingKey) as Record<string, string>;
    const keyParts = Object.values(jwk).filter((value) => typeof value === "string" && value.length >= 32);
    const accountKey = /AccountKey=([^;]+)/.exec(azurite().connectionString)?.[1] as string;
    const needles = [...secrets, ...keyParts, signingKey, accountKey];
    const haystack = [...lines.map((line) => JSON.stringify(line)), ...remarks].join("\n");
    assert.ok(haystack.length > 1000);
    for (const needle of needles)
      assert.ok(!haystack.includes(needle), `a secret is in the logs (${needle.slice(0, 6)}…)`);
    assert.ok(!/authorization|bearer |basic /i.test(haystack), "a credential header made it into the logs");
  });
});
