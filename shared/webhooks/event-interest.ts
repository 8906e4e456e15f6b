import type { RegistryEvent } from "../events/registry-event.js";
import type { MessageSender } from "../storage/ports/message-queue.js";
import { subscriptionMatches } from "./filters.js";
import type { Subscription } from "./subscription.js";
import type { SubscriptionDirectory } from "./subscriptions.js";

/**
 * How old the subscription list behind "nobody wants this event" may be: a subscription added
 * through another process (the CLI, another instance) gets the events of changes made from at
 * most this long after it was added. One added through this instance counts at once.
 */
export const SUBSCRIPTIONS_MAX_AGE_MS = 10_000;

interface Snapshot {
  subscriptions: readonly Subscription[];
  /** When the read began: whatever was added before then is in it. */
  takenAt: number;
  /** The directory's own change count when the read began. */
  generation: number;
}

/**
 * Whether any subscription wants an event, from a copy of the subscription list that is at
 * most `maxAgeMs` old (and re-read at once after a change made through this instance). The
 * fan-out drops an event no subscription wants, so queuing it is one storage write, one take
 * and one delete for nothing on every push. A list that cannot be read wants everything: the
 * event is queued and delivery decides, as without this.
 */
export class EventInterest {
  private snapshot: Snapshot | undefined;
  private loading: { generation: number; snapshot: Promise<Snapshot | undefined> } | undefined;

  constructor(
    private readonly directory: Pick<SubscriptionDirectory, "list" | "generation">,
    private readonly options: { maxAgeMs: number; now: () => number },
  ) {}

  async wants(event: RegistryEvent): Promise<boolean> {
    const snapshot = await this.current();
    return !snapshot || snapshot.subscriptions.some((subscription) => subscriptionMatches(subscription, event));
  }

  private current(): Promise<Snapshot | undefined> {
    const generation = this.directory.generation;
    const kept = this.snapshot;
    if (kept && kept.generation === generation && this.options.now() - kept.takenAt < this.options.maxAgeMs) {
      return Promise.resolve(kept);
    }
    // one read at a time per generation; a read begun before a change here cannot answer for after it
    if (this.loading?.generation !== generation) {
      const loading = { generation, snapshot: this.load(generation) };
      this.loading = loading;
      void loading.snapshot.finally(() => {
        if (this.loading === loading) this.loading = undefined;
      });
    }
    return this.loading.snapshot;
  }

  private async load(generation: number): Promise<Snapshot | undefined> {
    const takenAt = this.options.now();
    let subscriptions: Subscription[];
    try {
      subscriptions = (await this.directory.list()).map(({ subscription }) => subscription);
    } catch {
      return undefined; // not kept: the next event tries again
    }
    const snapshot = { subscriptions, takenAt, generation };
    const kept = this.snapshot;
    if (!kept || (generation >= kept.generation && takenAt >= kept.takenAt)) this.snapshot = snapshot;
    return snapshot;
  }
}

/** The events some subscription wants go on to `sink`; the others are not queued at all. */
export function subscribedEvents(
  sink: MessageSender<RegistryEvent>,
  interest: EventInterest,
): MessageSender<RegistryEvent> {
  return {
    async send(event, delaySeconds) {
      if (await interest.wants(event)) await sink.send(event, delaySeconds);
    },
  };
}
