import { QueueServiceClient, type QueueClient } from "@azure/storage-queue";
import type { MessageReceiver, MessageSender, ReceivedMessage } from "../ports/message-queue.js";

/** A week: the queue maximum that Azure Stack Hub also accepts. */
const TTL_SECONDS = 7 * 24 * 3600;

/**
 * JSON values as Azure Storage queue messages, in base64 text (the Functions queue trigger's
 * default encoding). The queue is created on first use; a message lives a week.
 */
export class JsonQueue<T> implements MessageSender<T>, MessageReceiver {
  private ready: Promise<unknown> | undefined;
  private readonly queue: QueueClient;
  private readonly service: QueueServiceClient;
  private poisonQueue: JsonQueue<unknown> | undefined;

  /** `service`: the account's queue client (a connection string in tests). */
  constructor(service: QueueServiceClient | string, name: string) {
    this.service = typeof service === "string" ? QueueServiceClient.fromConnectionString(service) : service;
    this.queue = this.service.getQueueClient(name);
  }

  get name(): string {
    return this.queue.name;
  }

  async send(value: T, delaySeconds = 0): Promise<void> {
    await this.sendText(JSON.stringify(value), delaySeconds);
  }

  async receive(max: number, leaseSeconds: number): Promise<ReceivedMessage[]> {
    await this.created();
    const { receivedMessageItems } = await this.queue.receiveMessages({
      numberOfMessages: Math.min(32, Math.max(1, max)),
      visibilityTimeout: leaseSeconds,
    });
    return receivedMessageItems.map((item) => {
      let popReceipt = item.popReceipt;
      const text = Buffer.from(item.messageText, "base64").toString("utf8");
      return {
        text,
        dequeueCount: item.dequeueCount,
        renew: async (seconds) => {
          const updated = await this.queue.updateMessage(item.messageId, popReceipt, undefined, seconds);
          popReceipt = updated.popReceipt ?? popReceipt;
        },
        remove: async () => {
          await this.queue.deleteMessage(item.messageId, popReceipt);
        },
        poison: async () => {
          this.poisonQueue ??= new JsonQueue(this.service, `${this.name}-poison`);
          await this.poisonQueue.sendText(text, 0);
          await this.queue.deleteMessage(item.messageId, popReceipt);
        },
      };
    });
  }

  private async sendText(text: string, delaySeconds: number): Promise<void> {
    await this.created();
    await this.queue.sendMessage(Buffer.from(text).toString("base64"), {
      messageTimeToLive: TTL_SECONDS,
      visibilityTimeout: delaySeconds,
    });
  }

  private created(): Promise<unknown> {
    this.ready ??= this.queue.createIfNotExists().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }
}
