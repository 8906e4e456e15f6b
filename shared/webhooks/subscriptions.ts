import type { SubscriptionStore } from "../storage/ports/webhook-storage.js";
import { parseSubscription, SubscriptionError, type Subscription } from "./subscription.js";

export type SubscriptionOrigin = "STOWAGE_WEBHOOKS" | "storage";

/**
 * Every subscription: those of STOWAGE_WEBHOOKS (read-only here) and those managed with the
 * CLI in storage, in one namespace. Delivery reads storage on every use, so a CLI change
 * applies to the next event delivered without restarting anything (whether an event is queued
 * at all is decided from a recent copy: see event-interest.ts).
 */
export class SubscriptionDirectory {
  private changes = 0;

  constructor(
    private readonly configured: readonly Subscription[],
    private readonly store: SubscriptionStore,
  ) {}

  async list(): Promise<{ subscription: Subscription; origin: SubscriptionOrigin }[]> {
    const stored = (await this.store.list()).map(validated).filter((s) => !this.fromConfig(s.name));
    return [
      ...this.configured.map((subscription) => ({ subscription, origin: "STOWAGE_WEBHOOKS" as const })),
      ...stored.map((subscription) => ({ subscription, origin: "storage" as const })),
    ];
  }

  /** Counts the changes made through this instance (a copy of the list older than one is stale). */
  get generation(): number {
    return this.changes;
  }

  async get(name: string): Promise<Subscription | undefined> {
    const configured = this.fromConfig(name);
    if (configured) return configured;
    const stored = await this.store.get(name);
    return stored && validated(stored);
  }

  async add(subscription: Subscription): Promise<void> {
    if (this.fromConfig(subscription.name) || !(await this.store.create(subscription))) {
      throw new SubscriptionError(`a subscription named "${subscription.name}" exists`);
    }
    this.changes++;
  }

  async remove(name: string): Promise<void> {
    if (this.fromConfig(name))
      throw new SubscriptionError(`"${name}" comes from STOWAGE_WEBHOOKS: change that setting`);
    if (!(await this.store.delete(name))) throw new SubscriptionError(`no subscription named "${name}"`);
    this.changes++;
  }

  private fromConfig(name: string): Subscription | undefined {
    return this.configured.find((s) => s.name === name);
  }
}

/** Re-validated on read: a hand-edited row fails loudly instead of misdelivering. */
function validated(record: unknown): Subscription {
  return parseSubscription(record);
}
