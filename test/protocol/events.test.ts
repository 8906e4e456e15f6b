import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { before, describe, it } from "node:test";
import { QueueClient } from "@azure/storage-queue";
import { openAccess } from "../../shared/http/authorizer.js";
import { notifyingRegistry } from "../../shared/events/notifying-registry.js";
import { RegistryError } from "../../shared/registry/errors.js";
import type { Manifests } from "../../shared/registry/manifest-service.js";
import { RegistryService, type Registry } from "../../shared/registry/registry-service.js";
import type { RegistryEvent } from "../../shared/events/registry-event.js";
import { useAzurite } from "../helpers/azurite.js";
import {
  createTestApp,
  createTestRegistry,
  handBuiltRegistry,
  SMALL_REGISTRY,
  type TestRegistry,
} from "../helpers/registry.js";
import { assertError, OCI_MANIFEST, pushBlob, pushImage, withQuery } from "./support.js";

/** A subscription that wants every event (never delivered here: these registries run no pollers). */
const LISTENING = { STOWAGE_WEBHOOKS: JSON.stringify([{ name: "all", url: "http://127.0.0.1:9/unused" }]) };

/** Events are queued before a change is acknowledged (the delivery side reads the queue). */
describe("Registry events", () => {
  const azurite = useAzurite();
  let registry: TestRegistry;

  before(async () => {
    registry = await createTestRegistry(azurite().connectionString, {
      ...LISTENING,
      STOWAGE_EVENT_ACTIONS: "push,delete,pull,mount",
    });
  });

  /** Takes every queued event (the queue is this registry's own). */
  async function drain(reg: Pick<TestRegistry, "config">): Promise<RegistryEvent[]> {
    const queue = new QueueClient(azurite().connectionString, reg.config.events.queue);
    await queue.createIfNotExists(); // made by the first event or poll: a registry that queued nothing has none
    const events: RegistryEvent[] = [];
    for (;;) {
      const { receivedMessageItems: items } = await queue.receiveMessages({ numberOfMessages: 32 });
      if (items.length === 0) return events;
      for (const item of items) {
        events.push(JSON.parse(Buffer.from(item.messageText, "base64").toString()) as RegistryEvent);
        await queue.deleteMessage(item.messageId, item.popReceipt);
      }
    }
  }

  it("a manifest push queues one push event in distribution's envelope entry shape", async () => {
    await drain(registry).catch(() => []);
    const image = await pushImage(registry, "events/app", "v1");
    const events = await drain(registry);
    assert.equal(events.length, 1);
    const [event] = events as [RegistryEvent];
    assert.equal(event.action, "push");
    assert.deepEqual(event.target, {
      repository: "events/app",
      digest: image.digest,
      mediaType: OCI_MANIFEST,
      size: image.manifest.length,
      length: image.manifest.length,
      tag: "v1",
      url: `http://registry.test/v2/events/app/manifests/${image.digest}`,
    });
    assert.match(event.id, /^[0-9a-f-]{36}$/);
    assert.ok(Date.parse(event.timestamp) <= Date.now());
    assert.equal(event.request.method, "PUT");
    assert.equal(event.request.host, "registry.test");
    assert.ok(event.source.instanceID);
  });

  it("with STOWAGE_PUBLIC_URL the event URL is the public one, whatever Host the pusher sent", async () => {
    const published = await createTestRegistry(azurite().connectionString, {
      ...LISTENING,
      STOWAGE_EVENT_ACTIONS: "push",
      STOWAGE_PUBLIC_URL: "https://registry.example.com",
    });
    const image = await pushImage(published, "events/public", "v1");
    const [event] = await drain(published);
    assert.equal(event?.target.url, `https://registry.example.com/v2/events/public/manifests/${image.digest}`);
  });

  it("pulls, tag and manifest deletes, blob deletes and mounts queue their events when enabled", async () => {
    const image = await pushImage(registry, "events/more", "v1");
    await registry.fetch(`/v2/events/more/manifests/v1`);
    await registry.fetch(`/v2/events/more/manifests/v1`, { method: "DELETE" });
    await registry.fetch(`/v2/events/more/manifests/${image.digest}`, { method: "DELETE" });
    const blob = await pushBlob(registry, "events/more", "mount me");
    await registry.fetch(`/v2/events/other/blobs/uploads/?mount=${blob}&from=events/more`, { method: "POST" });
    await registry.fetch(`/v2/events/more/blobs/${blob}`, { method: "DELETE" });
    const seen = (await drain(registry)).map(
      (e) => `${e.action} ${e.target.repository} ${e.target.tag ?? e.target.digest}`,
    );
    assert.deepEqual(seen.slice(-5), [
      `pull events/more v1`,
      `delete events/more v1`,
      `delete events/more ${image.digest}`,
      `mount events/other ${blob}`,
      `delete events/more ${blob}`,
    ]);
  });

  it("with STOWAGE_EVENT_BLOBS, each blob pushed (whole or by session) and pulled queues an event too", async () => {
    const blobs = await createTestRegistry(azurite().connectionString, {
      ...LISTENING,
      STOWAGE_EVENT_ACTIONS: "push,pull",
      STOWAGE_EVENT_BLOBS: "true",
    });
    const whole = await pushBlob(blobs, "events/blobs", "a whole layer");
    const start = await blobs.fetch("/v2/events/blobs/blobs/uploads/", { method: "POST" });
    const location = start.headers.get("location") as string;
    const chunked = "a layer in a session";
    const digest = `sha256:${createHash("sha256").update(chunked).digest("hex")}`;
    assert.equal(
      (await blobs.fetch(withQuery(location, `digest=${digest}`), { method: "PUT", body: chunked })).status,
      201,
    );
    assert.equal((await blobs.fetch(`/v2/events/blobs/blobs/${whole}`)).status, 200);
    const events = await drain(blobs);
    assert.deepEqual(
      events.map((e) => `${e.action} ${e.target.digest} ${e.target.size} ${e.target.mediaType}`),
      [
        `push ${whole} 13 application/octet-stream`,
        `push ${digest} ${chunked.length} application/octet-stream`,
        `pull ${whole} 13 application/octet-stream`,
      ],
    );
    assert.equal(events[0]?.target.url, `http://registry.test/v2/events/blobs/blobs/${whole}`);
  });

  it("by default only pushes and deletes produce events", async () => {
    const plain = await createTestRegistry(azurite().connectionString, LISTENING);
    await pushImage(plain, "events/default", "v1");
    await plain.fetch("/v2/events/default/manifests/v1");
    assert.deepEqual(
      (await drain(plain)).map((e) => e.action),
      ["push"],
    );
  });

  it("an event no subscription wants is not queued; one added through this instance gets the next at once", async () => {
    const app = await createTestApp(
      azurite().connectionString,
      {
        STOWAGE_EVENT_ACTIONS: "push,delete",
        STOWAGE_WEBHOOKS: JSON.stringify([
          { name: "team-deletes", url: "http://127.0.0.1:9/unused", actions: ["delete"], repositories: ["team/*"] },
        ]),
      },
      { authorizer: openAccess },
    );
    const quiet = await pushImage(app, "events/quiet", "v1");
    await pushImage(app, "team/app", "v1");
    assert.equal((await app.fetch(`/v2/events/quiet/manifests/v1`, { method: "DELETE" })).status, 202);
    assert.deepEqual(await drain(app), [], "no subscription wants these pushes, nor a delete outside team/*");

    assert.equal((await app.fetch(`/v2/team/app/manifests/v1`, { method: "DELETE" })).status, 202);
    assert.deepEqual(
      (await drain(app)).map((e) => `${e.action} ${e.target.repository}`),
      ["delete team/app"],
    );

    await app.webhooks.directory.add({ name: "quiet", url: "http://127.0.0.1:9/unused", repositories: ["events/*"] });
    await app.fetch(`/v2/events/quiet/manifests/${quiet.digest}`, { method: "DELETE" });
    assert.deepEqual(
      (await drain(app)).map((e) => `${e.action} ${e.target.repository} ${e.target.digest}`),
      [`delete events/quiet ${quiet.digest}`],
      "the subscription added here counts from the next event",
    );
  });

  it("a push undone before it answers (a sweep took a blob) has its push event followed by a delete event", async () => {
    const sent: RegistryEvent[] = [];
    const digest = `sha256:${"a".repeat(64)}`;
    const manifests: Partial<Manifests> = {
      // as ManifestService.put reports a manifest it committed, then removed again (claimBlobs)
      put: async (_repository, _reference, _bytes, _type, observer) => {
        await observer?.committed({ digest, mediaType: OCI_MANIFEST, size: 2 });
        await observer?.withdrawn(digest);
        throw new RegistryError("MANIFEST_BLOB_UNKNOWN", "a referenced blob was garbage-collected");
      },
    };
    const origin = () => ({
      actor: undefined,
      addr: "",
      host: "h",
      method: "PUT",
      useragent: "t",
      baseUrl: "http://h",
    });
    const notifying = notifyingRegistry({ manifests } as Registry, origin, {
      sink: { send: async (event) => void sent.push(event) },
      actions: new Set(["push", "delete"]),
      blobTransfers: false,
    });
    await assert.rejects(notifying.manifests.put("events/undone", "v1", new Uint8Array(2), OCI_MANIFEST), /garbage/);
    assert.deepEqual(
      sent.map((event) => [event.action, event.target.repository, event.target.digest, event.target.tag]),
      [
        ["push", "events/undone", digest, "v1"],
        ["delete", "events/undone", digest, undefined],
      ],
    );
  });

  it("when the event cannot be queued the push fails (500), so the client retries and no change goes unannounced", async () => {
    const broken: TestRegistry = await handBuiltRegistry(azurite().connectionString, (storage) => {
      const service = new RegistryService(storage, SMALL_REGISTRY);
      const down = { sink: { send: () => Promise.reject(new Error("queue down")) } };
      return (origin) =>
        notifyingRegistry(service, origin, { ...down, actions: new Set(["push"]), blobTransfers: false });
    });
    const config = await pushBlob(broken, "events/broken", "{}");
    const response = await broken.fetch("/v2/events/broken/manifests/v1", {
      method: "PUT",
      headers: { "Content-Type": OCI_MANIFEST },
      body: JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: "application/vnd.oci.empty.v1+json", digest: config, size: 2 },
        layers: [],
      }),
    });
    await assertError(response, 500, "UNKNOWN");
  });
});
