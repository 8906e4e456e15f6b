import { hostname } from "node:os";
import { INSTANCE_ID, newEventId, type EventAction, type RegistryEvent } from "../events/registry-event.js";

/** What a webhook carries: a registry event, or the `ping` that `webhook test` sends. */
export type WebhookEvent = Omit<RegistryEvent, "action"> & { action: EventAction | "ping" };

/** A ping, shaped like any event so receivers exercise their real parsing path. */
export function pingEvent(subscription: string): WebhookEvent {
  return {
    id: newEventId(),
    timestamp: new Date().toISOString(),
    action: "ping",
    target: { repository: "" },
    request: { id: newEventId(), addr: "", host: "", method: "", useragent: "stowage-cli" },
    actor: { name: `webhook test ${subscription}` },
    source: { addr: hostname(), instanceID: INSTANCE_ID },
  };
}

/** Checks the shape of an event read back from a queue or table (a foreign message must not crash a handler). */
export function asWebhookEvent(value: unknown): WebhookEvent {
  const event = value as Partial<WebhookEvent> | null;
  if (
    typeof event !== "object" ||
    event === null ||
    typeof event.id !== "string" ||
    typeof event.action !== "string" ||
    typeof event.timestamp !== "string" ||
    typeof event.target?.repository !== "string"
  ) {
    throw new Error("not a registry event");
  }
  return event as WebhookEvent;
}
