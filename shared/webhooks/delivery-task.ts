import type { WebhookEvent } from "./webhook-event.js";

/** One event for one subscription: the unit that is retried on its own. */
export interface DeliveryTask {
  subscription: string;
  event: WebhookEvent;
  /** 1 for the first try. */
  attempt: number;
}

/** The delivery queue next to the event queue (the Functions trigger names it the same way). */
export function deliveryQueueName(eventQueue: string): string {
  return `${eventQueue}-deliveries`;
}
