import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { QueueClient } from "@azure/storage-queue";
import { freePort } from "../../shared/server/azurite.js";
import { verifySignature } from "../../shared/webhooks/signing.js";
import { useAzurite } from "../helpers/azurite.js";
import { OCI_MANIFEST, pushImage } from "../protocol/support.js";
import { Receiver, verifyAsReceiver } from "./receiver.js";
import { envelopeEvents, runCli, startHarness, type Harness } from "./support.js";

const SECRET = "test-secret-0123456789";

/**
 * Delivery through Azurite queues by the Node server's pollers, to a real HTTP receiver on
 * loopback: formats, filters, signatures, retries, the dead-letter store and its replay.
 */
describe("webhook delivery", () => {
  const azurite = useAzurite();
  let receiver: Receiver;
  const harnesses: Harness[] = [];

  before(async () => {
    receiver = await Receiver.start();
  });
  after(async () => {
    for (const harness of harnesses) await harness.stop();
    await receiver.down();
  });

  async function harness(subscriptions: object[], env: Record<string, string> = {}): Promise<Harness> {
    const started = await startHarness(azurite().connectionString, {
      STOWAGE_WEBHOOKS: JSON.stringify(subscriptions),
      ...env,
    });
    harnesses.push(started);
    return started;
  }

  it("delivers a push as one signed distribution envelope carrying the custom headers", async () => {
    const h = await harness([
      { name: "main", url: receiver.url("/main"), secret: SECRET, headers: { Authorization: "Bearer hook-token" } },
    ]);
    const image = await pushImage(h.registry, "hooks/app", "v1");
    await receiver.waitFor(() => receiver.at("/main").length === 1);
    const [request] = receiver.at("/main");
    assert.ok(request);
    assert.equal(request.headers["content-type"], "application/vnd.docker.distribution.events.v1+json");
    assert.equal(request.headers.authorization, "Bearer hook-token");
    assert.ok(verifyAsReceiver(SECRET, request.body, request.headers["stowage-signature"]), "valid signature");
    assert.ok(verifySignature(SECRET, request.body, request.headers["stowage-signature"] as string));
    const envelope = JSON.parse(request.body) as { events: { id: string; action: string; target: object }[] };
    assert.equal(envelope.events.length, 1);
    const [event] = envelope.events;
    assert.equal(request.headers["stowage-event-id"], event?.id);
    assert.equal(request.headers["stowage-delivery-attempt"], "1");
    assert.equal(event?.action, "push");
    assert.deepEqual(event?.target, {
      repository: "hooks/app",
      digest: image.digest,
      mediaType: OCI_MANIFEST,
      size: image.manifest.length,
      length: image.manifest.length,
      tag: "v1",
      url: `http://registry.test/v2/hooks/app/manifests/${image.digest}`,
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(receiver.at("/main").length, 1, "exactly one delivery");
  });

  it("without a subscription no queue is polled; one added later is found and gets the events", async () => {
    const h = await startHarness(azurite().connectionString, {}, { subscriptionCheckMs: 200 });
    harnesses.push(h);
    await pushImage(h.registry, "quiet/app", "v1");
    await new Promise((resolve) => setTimeout(resolve, 600));
    const events = new QueueClient(azurite().connectionString, h.registry.config.events.queue);
    assert.equal(await events.exists(), false, "nothing queued, and no poller made the queue to read it");
    await h.webhooks.directory.add({ name: "late", url: receiver.url("/late") });
    await pushImage(h.registry, "quiet/app", "v2");
    await receiver.waitFor(() => receiver.at("/late").length === 1);
    assert.deepEqual(
      envelopeEvents(receiver.at("/late")).map((event) => `${event.action} ${event.target.tag}`),
      ["push v2"],
    );
  });

  it("sends each subscription its format: ACR body, CloudEvents, unsigned without a secret", async () => {
    const h = await harness([
      { name: "acr", url: receiver.url("/fmt-acr"), format: "acr" },
      { name: "ce", url: receiver.url("/fmt-ce"), format: "cloudevents", secret: SECRET },
    ]);
    const image = await pushImage(h.registry, "formats/app", "v2");
    await receiver.waitFor(() => receiver.at("/fmt-acr").length === 1 && receiver.at("/fmt-ce").length === 1);
    const [acr] = receiver.at("/fmt-acr");
    assert.equal(acr?.headers["content-type"], "application/json");
    assert.equal(acr?.headers["stowage-signature"], undefined, "no secret, no signature");
    const acrBody = JSON.parse(acr?.body ?? "") as Record<string, unknown>;
    assert.deepEqual(Object.keys(acrBody).sort(), ["action", "id", "request", "target", "timestamp"]);
    assert.deepEqual(acrBody.target, {
      repository: "formats/app",
      digest: image.digest,
      mediaType: OCI_MANIFEST,
      size: image.manifest.length,
      length: image.manifest.length,
      tag: "v2",
    });
    const [ce] = receiver.at("/fmt-ce");
    assert.equal(ce?.headers["content-type"], "application/cloudevents+json; charset=utf-8");
    assert.ok(verifyAsReceiver(SECRET, ce?.body ?? "", ce?.headers["stowage-signature"]));
    const cloud = JSON.parse(ce?.body ?? "") as Record<string, unknown>;
    assert.equal(cloud.specversion, "1.0");
    assert.equal(cloud.type, "io.stowage.registry.push");
    assert.equal(cloud.subject, "formats/app:v2");
    assert.equal(cloud.id, acrBody.id, "the same event");
  });

  it("filters by action and repository", async () => {
    const h = await harness(
      [
        { name: "deletes", url: receiver.url("/f-deletes"), actions: ["delete"] },
        { name: "team", url: receiver.url("/f-team"), repositories: ["team/*"] },
      ],
      { STOWAGE_EVENT_ACTIONS: "push,delete" },
    );
    await pushImage(h.registry, "team/app", "v1");
    await pushImage(h.registry, "other/app", "v1");
    const gone = await h.registry.fetch("/v2/other/app/manifests/v1", { method: "DELETE" });
    assert.equal(gone.status, 202);
    await receiver.waitFor(() => receiver.at("/f-deletes").length >= 1 && receiver.at("/f-team").length >= 1);
    await new Promise((resolve) => setTimeout(resolve, 800));
    const seen = (path: string) =>
      envelopeEvents(receiver.at(path)).map((e) => `${e.action} ${String(e.target.repository)}`);
    assert.deepEqual(seen("/f-deletes"), ["delete other/app"]);
    assert.deepEqual(seen("/f-team"), ["push team/app"]);
  });

  it("keeps retrying while the receiver is down: every event arrives once it is back", async () => {
    const down = await Receiver.start();
    const h = await harness([{ name: "flaky", url: down.url("/flaky") }], { STOWAGE_WEBHOOK_MAX_ATTEMPTS: "6" });
    await down.down();
    const digests = [];
    for (const tag of ["1", "2", "3"]) digests.push((await pushImage(h.registry, "flaky/app", tag)).digest);
    await new Promise((resolve) => setTimeout(resolve, 2500)); // a few failed attempts
    assert.ok(
      h.log.some((line) => /attempt 1 failed \(ECONNREFUSED\), retrying in 1 s/.test(line)),
      h.log.join("\n"),
    );
    await down.up();
    await down.waitFor((r) => new Set(envelopeEvents(r).map((e) => e.target.digest)).size === 3, 30_000);
    assert.deepEqual(new Set(envelopeEvents(down.received).map((e) => e.target.digest)), new Set(digests));
    assert.ok(down.received.every((r) => Number(r.headers["stowage-delivery-attempt"]) > 1));
    await down.down();
  });

  it("one failing subscription does not delay another", async () => {
    // an endpoint that accepts connections and never answers: every attempt runs into its timeout
    const held = new Set<Socket>();
    const silent: Server = createServer((socket) => void held.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const h = await harness([
        // its deliveries hang far longer than the healthy ones may take, however slow the machine
        { name: "stuck", url: `http://127.0.0.1:${port}/stuck`, timeoutMs: 120_000 },
        { name: "healthy", url: receiver.url("/healthy") },
      ]);
      for (const tag of ["1", "2", "3", "4"]) await pushImage(h.registry, "split/app", tag);
      await receiver.waitFor(() => receiver.at("/healthy").length === 4, 60_000, "the healthy subscription");
      assert.ok(
        !h.log.some((line) => /stuck.*failed/.test(line)),
        "every healthy delivery arrived while the stuck ones were still hanging",
      );
    } finally {
      for (const socket of held) socket.destroy();
      silent.close();
    }
  });

  it("a receiver answering 500 forever: dead letter after N attempts, listed and replayed with the CLI", async () => {
    const h = await harness([{ name: "broken", url: receiver.url("/broken"), secret: SECRET }], {
      STOWAGE_WEBHOOK_MAX_ATTEMPTS: "3",
    });
    receiver.statuses.set("/broken", 500);
    const image = await pushImage(h.registry, "broken/app", "v1");
    // attempts at about 0 s, 1 s and 3 s, then the dead letter
    await receiver.waitFor(() => receiver.at("/broken").length === 3, 15_000);
    let failures = { code: 0, stdout: "", stderr: "" };
    for (const deadline = Date.now() + 10_000; Date.now() < deadline;) {
      failures = await runCli(["webhook", "failures"], h.env);
      if (failures.stdout.trim()) break;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.equal(failures.code, 0, failures.stderr);
    const lines = failures.stdout.trim().split("\n");
    assert.equal(lines.length, 1, failures.stdout);
    const [id, subscription, what, , attempts, outcome] = (lines[0] as string).split("\t");
    assert.equal(subscription, "broken");
    assert.equal(what, `push broken/app:v1@${image.digest}`);
    assert.equal(attempts, "attempts=3");
    assert.equal(outcome, "HTTP 500");
    assert.deepEqual(
      receiver.at("/broken").map((r) => r.headers["stowage-delivery-attempt"]),
      ["1", "2", "3"],
    );

    receiver.statuses.set("/broken", 204);
    const replay = await runCli(["webhook", "replay", id as string], h.env);
    assert.equal(replay.code, 0, replay.stderr);
    await receiver.waitFor(() => receiver.at("/broken").length === 4, 10_000, "the replayed delivery");
    const replayed = receiver.at("/broken")[3];
    assert.ok(verifyAsReceiver(SECRET, replayed?.body ?? "", replayed?.headers["stowage-signature"]));
    assert.equal(envelopeEvents([replayed as { body: string }])[0]?.target.digest, image.digest);
    assert.equal((await runCli(["webhook", "failures"], h.env)).stdout, "", "replayed: no longer a failure");
    assert.equal((await runCli(["webhook", "replay", "--all"], h.env)).code, 0, "nothing left to replay");
  });

  it("the CLI adds, lists, tests and removes subscriptions; added ones get events at once", async () => {
    const h = await harness([{ name: "from-config", url: receiver.url("/cfg") }]);
    const added = await runCli(
      ["webhook", "add", "cli-hook", "--url", receiver.url("/cli"), "--repository", "cli/*", "--header", "X-Team: ops"],
      h.env,
    );
    assert.equal(added.code, 0, added.stderr);
    const secret = added.stdout.trim();
    assert.match(secret, /^[A-Za-z0-9_-]{40,}$/, "only the generated secret on stdout");

    const listed = await runCli(["webhook", "list"], h.env);
    assert.match(listed.stdout, /^from-config\t.*from=STOWAGE_WEBHOOKS$/m);
    assert.match(listed.stdout, /^cli-hook\t.*repositories=cli\/\*\tsigned=yes\theaders=X-Team\tfrom=storage$/m);
    assert.ok(!listed.stdout.includes(secret) && !listed.stdout.includes("ops"), "no secret or header value listed");

    const duplicate = await runCli(["webhook", "add", "from-config", "--url", receiver.url("/x")], h.env);
    assert.equal(duplicate.code, 1);
    assert.match(duplicate.stderr, /exists/);
    assert.equal((await runCli(["webhook", "add", "bad", "--url", "ftp://x", "--unsigned"], h.env)).code, 1);

    const tested = await runCli(["webhook", "test", "cli-hook"], h.env);
    assert.equal(tested.code, 0, tested.stderr);
    assert.equal(tested.stdout.trim(), "cli-hook: HTTP 200");
    const [ping] = receiver.at("/cli");
    assert.equal(envelopeEvents([ping as { body: string }])[0]?.action, "ping");
    assert.ok(verifyAsReceiver(secret, ping?.body ?? "", ping?.headers["stowage-signature"]));
    assert.equal(ping?.headers["x-team"], "ops");

    await pushImage(h.registry, "cli/app", "v1");
    await receiver.waitFor(() => receiver.at("/cli").length === 2);
    assert.equal(envelopeEvents(receiver.at("/cli"))[1]?.action, "push");

    assert.equal((await runCli(["webhook", "remove", "cli-hook"], h.env)).code, 0);
    assert.equal((await runCli(["webhook", "remove", "from-config"], h.env)).code, 1, "config ones stay");
    const unreachable = await runCli(["webhook", "test", "from-config"], {
      ...h.env,
      STOWAGE_WEBHOOKS: JSON.stringify([{ name: "from-config", url: `http://127.0.0.1:${await freePort()}/none` }]),
    });
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stdout, /from-config: ECONNREFUSED/);
  });
});
