import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { startAzurite, type AzuriteInstance } from "../../shared/server/azurite.js";
import { assertNoSecrets } from "../helpers/secret-scan.js";
import { Receiver, verifyAsReceiver } from "../webhooks/receiver.js";
import { envelopeEvents } from "../webhooks/support.js";
import { OCI_MANIFEST, writeOciLayout, type OciImage } from "./oci-image.js";
import { requireBinaries, run, searchPath } from "./processes.js";
import { isolatedNames, startServerProcess, type ServerProcess } from "./server-process.js";

const SECRET = "e2e-webhook-secret-0123456789";

/**
 * Webhooks end to end: skopeo pushes to the Node server process, whose in-process poller
 * delivers to a receiver on loopback; the server is SIGKILLed and restarted with events queued.
 */
describe("webhooks from the Node server process", { timeout: 5 * 60_000 }, () => {
  let azurite: AzuriteInstance | undefined;
  let server: ServerProcess | undefined;
  let receiver: Receiver;
  let work = "";
  let image: OciImage;
  let env: Record<string, string>;
  const names = isolatedNames();
  const adminPassword = "e2e-webhooks-admin-password";

  const start = async () => {
    server = await startServerProcess({
      connectionString: (azurite as AzuriteInstance).connectionString,
      ...names,
      adminPassword,
      dataDir: join(work, "data"),
      env: {
        STOWAGE_WEBHOOKS: JSON.stringify([{ name: "ci", url: receiver.url("/ci"), secret: SECRET }]),
        STOWAGE_WEBHOOK_MAX_ATTEMPTS: "8",
        STOWAGE_WEBHOOK_BACKOFF_MS: "1000",
        STOWAGE_WEBHOOK_MAX_BACKOFF_MS: "2000",
        STOWAGE_WEBHOOK_POLL_MS: "100",
      },
    });
    return server;
  };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), "stw-hooks-"));
    azurite = await startAzurite();
    receiver = await Receiver.start();
    await start();
    image = await writeOciLayout(join(work, "image"), { tag: "1", layerKiB: 16, layerCount: 1 });
    const home = join(work, "home");
    await mkdir(join(home, ".config", "containers"), { recursive: true });
    await writeFile(join(work, "policy.json"), JSON.stringify({ default: [{ type: "insecureAcceptAnything" }] }));
    await writeFile(join(work, "registries.conf"), "unqualified-search-registries = []\n");
    env = {
      PATH: searchPath(),
      HOME: home,
      XDG_CONFIG_HOME: join(home, ".config"),
      XDG_CACHE_HOME: join(work, "cache"),
      CONTAINERS_REGISTRIES_CONF: join(work, "registries.conf"),
      REGISTRY_AUTH_FILE: join(work, "auth.json"),
    };
  });

  after(async () => {
    await server?.stop();
    await receiver.down();
    await azurite?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const push = (tag: string) =>
    run(
      "skopeo",
      [
        "copy",
        "--policy",
        join(work, "policy.json"),
        "--dest-tls-verify=false",
        "--dest-creds",
        `admin:${adminPassword}`,
        `oci:${image.dir}:${image.tag}`,
        `docker://${server?.host}/e2e/hooks:${tag}`,
      ],
      { env, timeoutMs: 120_000 },
    );

  test("skopeo push: exactly the expected envelope arrives, with a valid signature", async (t) => {
    if (!requireBinaries(t, "skopeo")) return;
    const registry = server as ServerProcess;
    await push("1");
    await receiver.waitFor(() => receiver.at("/ci").length >= 1, 20_000);
    await new Promise((resolve) => setTimeout(resolve, 1000)); // nothing else may follow
    const requests = receiver.at("/ci");
    assert.equal(requests.length, 1, "one push, one delivery");
    const [request] = requests as [(typeof requests)[0]];
    assert.equal(request.headers["content-type"], "application/vnd.docker.distribution.events.v1+json");
    assert.ok(verifyAsReceiver(SECRET, request.body, request.headers["stowage-signature"]), "signature verifies");
    const envelope = JSON.parse(request.body) as { events: Record<string, Record<string, unknown>>[] };
    assert.equal(envelope.events.length, 1);
    const event = envelope.events[0] as Record<string, Record<string, unknown>>;
    assert.deepEqual(Object.keys(event).sort(), ["action", "actor", "id", "request", "source", "target", "timestamp"]);
    assert.equal(event.action, "push");
    assert.equal(request.headers["stowage-event-id"], event.id);
    assert.deepEqual(event.target, {
      repository: "e2e/hooks",
      digest: image.manifestDigest,
      mediaType: OCI_MANIFEST,
      size: image.manifest.length,
      length: image.manifest.length,
      tag: "1",
      url: `${registry.url}/v2/e2e/hooks/manifests/${image.manifestDigest}`,
    });
    const { id: requestId, useragent, ...requestRest } = event.request as Record<string, string>;
    assert.match(requestId as string, /^[0-9a-f-]{36}$/);
    assert.match(useragent as string, /skopeo|containers/i);
    assert.deepEqual(requestRest, { addr: "127.0.0.1", host: registry.host, method: "PUT" });
    assert.deepEqual(event.actor, { name: "admin" });
    assert.equal(event.source?.addr, hostname());
    assert.ok(Math.abs(Date.parse(event.timestamp as unknown as string) - request.at) < 30_000);
  });

  test("the server's log of that login, push and signed delivery holds no password, token or secret", () => {
    const log = (server as ServerProcess).output();
    assert.match(log, /"msg":"request"/, "the request log is on");
    assert.match(log, /"audit":true,"event":"login","outcome":"success"/, "the login is audited");
    assertNoSecrets(log, [adminPassword, SECRET]);
  });

  test("registry killed (SIGKILL) and restarted while events are queued: every event still arrives", async (t) => {
    if (!requireBinaries(t, "skopeo")) return;
    await receiver.down(); // events pile up, deliveries fail and are queued again with backoff
    const tags = ["k1", "k2", "k3"];
    for (const tag of tags) await push(tag);
    await new Promise((resolve) => setTimeout(resolve, 500));
    process.kill((server as ServerProcess).pid, "SIGKILL");
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(server?.running(), false);
    await receiver.up();
    await start();
    const arrived = () => new Set(envelopeEvents(receiver.at("/ci")).map((e) => e.target.tag));
    await receiver.waitFor(() => tags.every((tag) => arrived().has(tag)), 60_000, `events for ${tags.join(", ")}`);
    assert.ok(
      receiver.at("/ci").every((r) => verifyAsReceiver(SECRET, r.body, r.headers["stowage-signature"])),
      "every delivery signed",
    );
  });
});
