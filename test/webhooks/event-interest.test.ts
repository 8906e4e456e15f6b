import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { RegistryEvent } from "../../shared/events/registry-event.js";
import { auditedSubscriptions } from "../../shared/observability/observed-webhooks.js";
import type { SubscriptionRecord, SubscriptionStore } from "../../shared/storage/ports/webhook-storage.js";
import { EventInterest, subscribedEvents } from "../../shared/webhooks/event-interest.js";
import type { Subscription } from "../../shared/webhooks/subscription.js";
import { SubscriptionDirectory } from "../../shared/webhooks/subscriptions.js";
import { sampleEvent } from "./support.js";

const MAX_AGE = 10_000;

/** A subscription list as storage holds it, with its reads counted; `fail` makes the next reads throw. */
class FakeDirectory {
  subscriptions: Subscription[] = [];
  generation = 0;
  reads = 0;
  fail = false;
  /** While set, a read waits for it (to hold a read in flight). */
  gate: Promise<void> | undefined;

  async list() {
    this.reads++;
    const seen = [...this.subscriptions];
    await this.gate;
    if (this.fail) throw new Error("storage down");
    return seen.map((subscription) => ({ subscription, origin: "storage" as const }));
  }
}

function setUp() {
  const directory = new FakeDirectory();
  let clock = 1_000_000;
  const interest = new EventInterest(directory, { maxAgeMs: MAX_AGE, now: () => clock });
  return { directory, interest, advance: (ms: number) => void (clock += ms) };
}

const hook = (name: string, extra: Partial<Subscription> = {}): Subscription => ({
  name,
  url: `http://127.0.0.1:9/${name}`,
  ...extra,
});
const event = (action: RegistryEvent["action"], repository: string): RegistryEvent => ({
  ...sampleEvent,
  action,
  target: { ...sampleEvent.target, repository },
});

describe("webhooks: events are queued only while a subscription wants them", () => {
  it("matches actions and repositories, and keeps one read of the list for its maximum age", async () => {
    const { directory, interest, advance } = setUp();
    directory.subscriptions = [hook("deletes", { actions: ["delete"], repositories: ["team/*"] })];
    assert.equal(await interest.wants(event("push", "team/app")), false);
    assert.equal(await interest.wants(event("delete", "other/app")), false);
    assert.equal(await interest.wants(event("delete", "team/app")), true);
    advance(MAX_AGE - 1);
    assert.equal(await interest.wants(event("delete", "team/app")), true);
    assert.equal(directory.reads, 1, "one read while the copy is young enough");
  });

  it("a subscription added elsewhere counts once the copy is older than its maximum age", async () => {
    const { directory, interest, advance } = setUp();
    assert.equal(await interest.wants(event("push", "team/app")), false);
    directory.subscriptions = [hook("late")]; // added by the CLI or another instance: no change seen here
    advance(MAX_AGE - 1);
    assert.equal(await interest.wants(event("push", "team/app")), false, "within the documented bound");
    advance(1);
    assert.equal(await interest.wants(event("push", "team/app")), true);
    assert.equal(directory.reads, 2);
  });

  it("a change made through this instance is seen by the next event", async () => {
    const { directory, interest } = setUp();
    assert.equal(await interest.wants(event("push", "team/app")), false);
    directory.subscriptions = [hook("here")];
    directory.generation++;
    assert.equal(await interest.wants(event("push", "team/app")), true);
  });

  it("a read begun before a change here does not answer for events after it", async () => {
    const { directory, interest } = setUp();
    let open!: () => void;
    directory.gate = new Promise((resolve) => (open = resolve));
    const before = interest.wants(event("push", "team/app")); // reads the empty list, held
    directory.subscriptions = [hook("here")];
    directory.generation++;
    const after = interest.wants(event("push", "team/app"));
    open();
    assert.deepEqual(await Promise.all([before, after]), [false, true]);
    assert.equal(directory.reads, 2);
  });

  it("events at once share one read", async () => {
    const { directory, interest } = setUp();
    directory.subscriptions = [hook("all")];
    const answers = await Promise.all(Array.from({ length: 20 }, () => interest.wants(event("push", "a/b"))));
    assert.ok(answers.every(Boolean));
    assert.equal(directory.reads, 1);
  });

  it("a list that cannot be read wants every event, and is read again for the next one", async () => {
    const { directory, interest } = setUp();
    directory.fail = true;
    assert.equal(await interest.wants(event("push", "team/app")), true);
    assert.equal(await interest.wants(event("push", "team/app")), true);
    assert.equal(directory.reads, 2, "a failure is not kept");
    directory.fail = false;
    assert.equal(await interest.wants(event("push", "team/app")), false);
  });

  it("the directory the app uses (audited) counts the changes made through it", async () => {
    const rows = new Map<string, SubscriptionRecord>();
    const store: SubscriptionStore = {
      list: async () => [...rows.values()],
      get: async (name) => rows.get(name),
      create: async (record) => !rows.has(record.name) && Boolean(rows.set(record.name, record)),
      delete: async (name) => rows.delete(name),
    };
    const audited: string[] = [];
    const directory = auditedSubscriptions(new SubscriptionDirectory([], store), (line) => audited.push(line.event));
    const interest = new EventInterest(directory, { maxAgeMs: MAX_AGE, now: () => 0 });
    assert.equal(await interest.wants(event("push", "team/app")), false);
    await directory.add(hook("here"));
    assert.equal(directory.generation, 1);
    assert.equal(await interest.wants(event("push", "team/app")), true, "seen at once, through the decorator");
    await directory.remove("here");
    assert.equal(await interest.wants(event("push", "team/app")), false);
    assert.deepEqual(audited, ["webhook.add", "webhook.remove"]);
  });

  it("the sink passes on only what is wanted, with its delay", async () => {
    const { directory, interest } = setUp();
    directory.subscriptions = [hook("team", { repositories: ["team/*"] })];
    const sent: [string, number | undefined][] = [];
    const sink = subscribedEvents({ send: async (e, delay) => void sent.push([e.target.repository, delay]) }, interest);
    await sink.send(event("push", "other/app"));
    await sink.send(event("push", "team/app"), 5);
    assert.deepEqual(sent, [["team/app", 5]]);
  });
});
