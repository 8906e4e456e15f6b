/**
 * Storage ports for webhook delivery. Records are plain JSON: the webhooks domain validates
 * what it reads back (a hand-edited row must fail loudly, not misdeliver).
 */

/** A subscription as stored: the domain's Subscription, as JSON (its secret included). */
export type SubscriptionRecord = { name: string } & Record<string, unknown>;

/** A delivery that used up its attempts, kept until it is replayed. */
export interface DeadLetterRecord {
  id: string;
  subscription: string;
  /** The event as it was queued (JSON). */
  event: unknown;
  attempts: number;
  /** What the last attempt got (`HTTP 500`, `ECONNREFUSED`, ...). */
  lastOutcome: string;
  failedAt: string;
}

/** Subscriptions managed with the CLI (STOWAGE_WEBHOOKS ones live in the configuration). */
export interface SubscriptionStore {
  list(): Promise<SubscriptionRecord[]>;
  get(name: string): Promise<SubscriptionRecord | undefined>;
  /** False when the name is taken. */
  create(subscription: SubscriptionRecord): Promise<boolean>;
  delete(name: string): Promise<boolean>;
}

export interface DeadLetterStore {
  add(letter: Omit<DeadLetterRecord, "id">): Promise<DeadLetterRecord>;
  list(subscription?: string): Promise<DeadLetterRecord[]>;
  get(id: string): Promise<DeadLetterRecord | undefined>;
  delete(id: string): Promise<boolean>;
}
