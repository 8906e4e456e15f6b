import type { Config } from "../config.js";
import type { RegistryEvent } from "../events/registry-event.js";
import { createAzureWebhookStores } from "../storage/azure/azure-webhook-store.js";
import { JsonQueue } from "../storage/azure/json-queue.js";
import type { DeadLetterStore, DeliveryTask } from "./ports.js";
import { startPoller, type Poller } from "./queue-poller.js";
import { SubscriptionDirectory } from "./subscriptions.js";
import { WebhookService } from "./webhook-service.js";

/** The delivery queue next to the event queue (the Functions trigger names it the same way). */
export function deliveryQueueName(eventQueue: string): string {
  return `${eventQueue}-deliveries`;
}

export interface Webhooks {
  service: WebhookService;
  directory: SubscriptionDirectory;
  deadLetters: DeadLetterStore;
  events: JsonQueue<RegistryEvent>;
  deliveries: JsonQueue<DeliveryTask>;
}

/** Wires the delivery side from configuration over Azure Storage (queues and the `<prefix>webhooks` table). */
export async function createWebhooks(
  config: Config,
  connectionString: string,
  log: (line: string) => void = (line) => console.log(line),
): Promise<Webhooks> {
  const stores = await createAzureWebhookStores({ connectionString, tablePrefix: config.tablePrefix });
  const directory = new SubscriptionDirectory(config.webhooks.subscriptions, stores.subscriptions);
  const events = new JsonQueue<RegistryEvent>(connectionString, config.events.queue);
  const deliveries = new JsonQueue<DeliveryTask>(connectionString, deliveryQueueName(config.events.queue));
  const service = new WebhookService({
    directory,
    deliveries,
    deadLetters: stores.deadLetters,
    retry: config.webhooks.retry,
    defaultTimeoutMs: config.webhooks.timeoutMs,
    log,
  });
  return { service, directory, deadLetters: stores.deadLetters, events, deliveries };
}

/** Seconds a message stays leased to this process; renewed while handled, so it only bounds recovery after a crash. */
const LEASE_SECONDS = 10;
/** After this many failed handlings a message is parked in `<queue>-poison` (the Functions host's default is 5). */
const MAX_DEQUEUE_COUNT = 5;

/** The Node server's in-process delivery: one poller on the event queue (fan-out), one on the delivery queue. */
export function startWebhookPollers(webhooks: Webhooks, config: Config, log: (line: string) => void): Poller {
  const options = {
    idleMs: config.webhooks.pollMs,
    leaseSeconds: LEASE_SECONDS,
    maxDequeueCount: MAX_DEQUEUE_COUNT,
    log,
  };
  const pollers = [
    startPoller(webhooks.events, (text) => webhooks.service.fanOut(text), { ...options, concurrency: 4 }),
    startPoller(webhooks.deliveries, (text) => webhooks.service.deliver(text), {
      ...options,
      concurrency: config.webhooks.concurrency,
    }),
  ];
  return { stop: async () => void (await Promise.all(pollers.map((p) => p.stop()))) };
}
