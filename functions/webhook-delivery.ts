import functions, { type InvocationContext } from "@azure/functions";
import { functionsApp } from "../shared/adapters/functions-app.js";

const { app } = functions;

/**
 * One queued registry event -> one delivery task per matching subscription. Throwing leaves
 * the message to the host's retries (then `<queue>-poison`); it is deleted only on success,
 * once every task is queued.
 */
export async function webhookEventHandler(message: unknown, context: InvocationContext): Promise<void> {
  const tasks = await (await functionsApp()).webhooks.service.fanOut(message);
  context.log(`event ${context.triggerMetadata?.id ?? ""}: ${tasks} delivery task(s) queued`);
}

/** One delivery task -> one POST; a failed POST queues the next attempt (delayed) or a dead letter. */
export async function webhookDeliveryHandler(message: unknown, context: InvocationContext): Promise<void> {
  const outcome = await (await functionsApp()).webhooks.service.deliver(message);
  context.log(`delivery: ${outcome}`);
}

// Queue names come from the app setting STOWAGE_EVENT_QUEUE (it must be set: bindings have no defaults).
app.storageQueue("webhookEvents", {
  queueName: "%STOWAGE_EVENT_QUEUE%",
  connection: "STOWAGE_STORAGE_CONNECTION_STRING",
  handler: webhookEventHandler,
});
app.storageQueue("webhookDeliveries", {
  queueName: "%STOWAGE_EVENT_QUEUE%-deliveries",
  connection: "STOWAGE_STORAGE_CONNECTION_STRING",
  handler: webhookDeliveryHandler,
});
