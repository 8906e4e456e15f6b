import { attemptDelivery, type AttemptResult } from "./delivery-attempt.js";
import { subscriptionMatches } from "./filters.js";
import type { MessageSender } from "../storage/ports/message-queue.js";
import type { DeadLetter, DeadLetters } from "./dead-letters.js";
import type { DeliveryTask } from "./delivery-task.js";
import { retryDelaySeconds, type RetryPolicy } from "./retry-policy.js";
import { SubscriptionError } from "./subscription.js";
import type { SubscriptionDirectory } from "./subscriptions.js";
import { asWebhookEvent, pingEvent } from "./webhook-event.js";

export interface WebhookServiceOptions {
  directory: SubscriptionDirectory;
  deliveries: MessageSender<DeliveryTask>;
  deadLetters: DeadLetters;
  retry: RetryPolicy;
  defaultTimeoutMs: number;
  log?: (line: string) => void;
}

export type DeliveryOutcome = "delivered" | "retry" | "dead-letter" | "dropped";

/**
 * The delivery side, the same for the Functions queue triggers and the Node server's poller.
 * Each handler returns only once its message's work is durably handed on (a task queued, a
 * dead letter written), and throws when it cannot be: the caller then keeps the message, which
 * comes back. So a message is removed only after its successor exists; nothing is lost, and a
 * crash in between at worst repeats a step (at-least-once: receivers may see an event twice).
 */
export class WebhookService {
  private readonly log: (line: string) => void;

  constructor(private readonly options: WebhookServiceOptions) {
    this.log = options.log ?? (() => undefined);
  }

  /** One event from the event queue -> one delivery task per matching subscription. */
  async fanOut(message: unknown): Promise<number> {
    const event = asWebhookEvent(decodeMessage(message));
    const matching = (await this.options.directory.list()).filter(({ subscription }) =>
      subscriptionMatches(subscription, event),
    );
    // all sent before the event message may go: a failure part-way redoes every task (duplicates, no loss)
    await Promise.all(
      matching.map(({ subscription }) =>
        this.options.deliveries.send({ subscription: subscription.name, event, attempt: 1 }),
      ),
    );
    return matching.length;
  }

  /** One delivery task -> one POST; on failure the next attempt is queued, delayed, or the task is dead-lettered. */
  async deliver(message: unknown): Promise<DeliveryOutcome> {
    const task = asDeliveryTask(decodeMessage(message));
    const subscription = await this.options.directory.get(task.subscription);
    if (!subscription) {
      this.log(`webhook ${task.subscription}: subscription removed, event ${task.event.id} dropped`);
      return "dropped";
    }
    const result = await attemptDelivery(subscription, task.event, {
      attempt: task.attempt,
      defaultTimeoutMs: this.options.defaultTimeoutMs,
    });
    if (result.ok) return "delivered";
    const delay = retryDelaySeconds(this.options.retry, task.attempt);
    const what = `webhook ${task.subscription}: event ${task.event.id} attempt ${task.attempt} failed (${result.outcome})`;
    if (delay !== undefined) {
      this.log(`${what}, retrying in ${delay} s`);
      await this.options.deliveries.send({ ...task, attempt: task.attempt + 1 }, delay);
      return "retry";
    }
    const letter = await this.options.deadLetters.add({
      subscription: task.subscription,
      event: task.event,
      attempts: task.attempt,
      lastOutcome: result.outcome,
      failedAt: new Date().toISOString(),
    });
    this.log(`${what}, no attempts left: dead letter ${letter.id}`);
    return "dead-letter";
  }

  /** Queues a dead letter's delivery afresh (full retries), then forgets the dead letter. */
  async replay(id: string): Promise<DeadLetter> {
    const letter = await this.options.deadLetters.get(id);
    if (!letter) throw new SubscriptionError(`no dead letter "${id}"`);
    if (!(await this.options.directory.get(letter.subscription))) {
      throw new SubscriptionError(`dead letter ${id}: subscription "${letter.subscription}" no longer exists`);
    }
    await this.options.deliveries.send({ subscription: letter.subscription, event: letter.event, attempt: 1 });
    await this.options.deadLetters.delete(id);
    return letter;
  }

  /** `webhook test`: one ping, straight to the endpoint, whatever its filters. */
  async ping(name: string): Promise<AttemptResult> {
    const subscription = await this.options.directory.get(name);
    if (!subscription) throw new SubscriptionError(`no subscription named "${name}"`);
    return attemptDelivery(subscription, pingEvent(name), {
      attempt: 1,
      defaultTimeoutMs: this.options.defaultTimeoutMs,
    });
  }
}

/** The Functions host hands a JSON message over parsed (or as text, or bytes); the poller as text. */
export function decodeMessage(message: unknown): unknown {
  if (typeof message === "string") return JSON.parse(message);
  if (message instanceof Uint8Array) return JSON.parse(Buffer.from(message).toString("utf8"));
  return message;
}

function asDeliveryTask(value: unknown): DeliveryTask {
  const task = value as Partial<DeliveryTask> | null;
  if (typeof task?.subscription !== "string" || !Number.isInteger(task.attempt) || (task.attempt as number) < 1) {
    throw new Error("not a delivery task");
  }
  return { subscription: task.subscription, attempt: task.attempt as number, event: asWebhookEvent(task.event) };
}
