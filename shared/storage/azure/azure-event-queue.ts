import { QueueClient } from "@azure/storage-queue";
import type { EventSink, RegistryEvent } from "../../events/registry-event.js";

/**
 * Events as Azure Storage queue messages, one event each. Base64 text, the encoding the
 * Azure Functions queue trigger expects by default; a message stays a week (the queue
 * maximum without Stack Hub-incompatible infinite TTL), long enough to outlive any outage
 * of the delivery side.
 */
export class AzureEventQueue implements EventSink {
  private ready: Promise<unknown> | undefined;

  constructor(private readonly queue: QueueClient) {}

  static fromConnectionString(connectionString: string, queueName: string): AzureEventQueue {
    return new AzureEventQueue(new QueueClient(connectionString, queueName));
  }

  async publish(event: RegistryEvent): Promise<void> {
    // created once per process, on first use (cold starts that never push pay nothing)
    this.ready ??= this.queue.createIfNotExists().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    await this.ready;
    await this.queue.sendMessage(Buffer.from(JSON.stringify(event)).toString("base64"), {
      messageTimeToLive: 7 * 24 * 3600,
    });
  }
}
