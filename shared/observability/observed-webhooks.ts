import type { RegistryEvent } from "../events/registry-event.js";
import { decorate } from "../lib/decorate.js";
import type { MessageReceiver, MessageSender } from "../storage/ports/message-queue.js";
import type { Subscription } from "../webhooks/subscription.js";
import type { SubscriptionDirectory } from "../webhooks/subscriptions.js";
import type { WebhookService } from "../webhooks/webhook-service.js";
import type { AuditLog } from "./audit-log.js";
import type { Metrics } from "./metrics.js";

/** The event queue as the registry sends to it, counting events by action. */
export function countedEvents(sink: MessageSender<RegistryEvent>, metrics: Metrics): MessageSender<RegistryEvent> {
  return {
    async send(event, delaySeconds) {
      await sink.send(event, delaySeconds);
      metrics.webhookEventQueued(event.action);
    },
  };
}

/** A webhook queue as the pollers take from it, measuring how long each message waited. */
export function agedQueue<Q extends MessageReceiver>(queue: Q, label: string, metrics: Metrics, now: () => number): Q {
  return decorate(queue as MessageReceiver, {
    receive: (original) => async (max, leaseSeconds) => {
      const messages = await original(max, leaseSeconds);
      for (const message of messages) {
        if (message.insertedOn) metrics.webhookQueueAge(label, (now() - message.insertedOn.getTime()) / 1000);
      }
      return messages;
    },
  }) as Q;
}

/** Delivery, counting each attempt's outcome (dead letters included). */
export function meteredWebhooks(service: WebhookService, metrics: Metrics): WebhookService {
  return decorate(service, {
    deliver: (original) => async (message) => {
      try {
        const outcome = await original(message);
        metrics.webhookDelivery(outcome.replace("-", "_"));
        return outcome;
      } catch (error) {
        metrics.webhookDelivery("error");
        throw error;
      }
    },
  });
}

/** Subscription changes (CLI and API) in the audit trail: name and endpoint origin, never the secret or headers. */
export function auditedSubscriptions(directory: SubscriptionDirectory, audit: AuditLog): SubscriptionDirectory {
  return decorate(directory, {
    add: (original) => async (subscription: Subscription) => {
      const target = { name: subscription.name, endpoint: endpointOrigin(subscription.url) };
      try {
        await original(subscription);
        audit({ event: "webhook.add", outcome: "success", target });
      } catch (error) {
        audit({ event: "webhook.add", outcome: "failure", target, reason: (error as Error).name });
        throw error;
      }
    },
    remove: (original) => async (name: string) => {
      try {
        await original(name);
        audit({ event: "webhook.remove", outcome: "success", target: { name } });
      } catch (error) {
        audit({ event: "webhook.remove", outcome: "failure", target: { name }, reason: (error as Error).name });
        throw error;
      }
    },
  });
}

/** A URL's scheme, host and port: its path or query may carry a receiver's token. */
function endpointOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return "invalid";
  }
}
