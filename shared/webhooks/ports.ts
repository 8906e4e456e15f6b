import type { Subscription } from "./subscription.js";
import type { WebhookEvent } from "./webhook-event.js";

/** One event for one subscription: the unit that is retried on its own. */
export interface DeliveryTask {
  subscription: string;
  event: WebhookEvent;
  /** 1 for the first try. */
  attempt: number;
}

/** A delivery that used up its attempts, kept until it is replayed. */
export interface DeadLetter {
  id: string;
  subscription: string;
  event: WebhookEvent;
  attempts: number;
  /** What the last attempt got (`HTTP 500`, `ECONNREFUSED`, ...). */
  lastOutcome: string;
  failedAt: string;
}

/** Subscriptions managed with the CLI (STOWAGE_WEBHOOKS ones live in the configuration). */
export interface SubscriptionStore {
  list(): Promise<Subscription[]>;
  get(name: string): Promise<Subscription | undefined>;
  /** False when the name is taken. */
  create(subscription: Subscription): Promise<boolean>;
  delete(name: string): Promise<boolean>;
}

export interface DeadLetterStore {
  add(letter: Omit<DeadLetter, "id">): Promise<DeadLetter>;
  list(subscription?: string): Promise<DeadLetter[]>;
  get(id: string): Promise<DeadLetter | undefined>;
  delete(id: string): Promise<boolean>;
}

/** Sends a message, visible after `delaySeconds` (the retry backoff). */
export interface MessageSender<T> {
  send(value: T, delaySeconds?: number): Promise<void>;
}

/** A message taken from a queue, invisible to other consumers while its lease lasts. */
export interface ReceivedMessage {
  text: string;
  dequeueCount: number;
  /** Extends the lease (long deliveries must not reappear to another consumer meanwhile). */
  renew(leaseSeconds: number): Promise<void>;
  /** Done with it: only once its work is durably handed on. */
  remove(): Promise<void>;
  /** Gives up on it: moved to the `<queue>-poison` queue, as the Functions host does. */
  poison(): Promise<void>;
}

export interface MessageReceiver {
  readonly name: string;
  receive(max: number, leaseSeconds: number): Promise<ReceivedMessage[]>;
}
