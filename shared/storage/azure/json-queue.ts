import type { QueueClient, QueueServiceClient } from "@azure/storage-queue";
import type { MessageReceiver, MessageSender, ReceivedMessage } from "../ports/message-queue.js";
import { sendBase64Message } from "./queue-send.js";

/** The account's queue client, made on first use: the queue SDK is loaded only where a queue is used. */
export type QueueService = () => Promise<QueueServiceClient>;

/** A week: the queue maximum that Azure Stack Hub also accepts. */
const TTL_SECONDS = 7 * 24 * 3600;

/**
 * JSON values as Azure Storage queue messages, in base64 text (the Functions queue trigger's
 * default encoding). The queue is created on first use; a message lives a week.
 */
export class JsonQueue<T> implements MessageSender<T>, MessageReceiver {
  private ready: Promise<QueueClient> | undefined;
  private readonly service: QueueService;
  private poisonQueue: JsonQueue<unknown> | undefined;

  /**
   * `service`: the account's queue client (a connection string in tests). Its queues share its
   * pipeline, so policies (API version, call metrics) are added to it once, not per queue.
   */
  constructor(
    service: QueueService | string,
    readonly name: string,
  ) {
    this.service = typeof service === "string" ? connectionStringService(service) : service;
  }

  async send(value: T, delaySeconds = 0): Promise<void> {
    await this.sendText(JSON.stringify(value), delaySeconds);
  }

  async receive(max: number, leaseSeconds: number): Promise<ReceivedMessage[]> {
    const queue = await this.created();
    const { receivedMessageItems } = await queue.receiveMessages({
      numberOfMessages: Math.min(32, Math.max(1, max)),
      visibilityTimeout: leaseSeconds,
    });
    return receivedMessageItems.map((item) => {
      let popReceipt = item.popReceipt;
      const text = Buffer.from(item.messageText, "base64").toString("utf8");
      return {
        text,
        dequeueCount: item.dequeueCount,
        insertedOn: item.insertedOn,
        renew: async (seconds) => {
          const updated = await queue.updateMessage(item.messageId, popReceipt, undefined, seconds);
          popReceipt = updated.popReceipt ?? popReceipt;
        },
        remove: async () => {
          await queue.deleteMessage(item.messageId, popReceipt);
        },
        poison: async () => {
          this.poisonQueue ??= new JsonQueue(this.service, `${this.name}-poison`);
          await this.poisonQueue.sendText(text, 0);
          await queue.deleteMessage(item.messageId, popReceipt);
        },
      };
    });
  }

  private async sendText(text: string, delaySeconds: number): Promise<void> {
    const queue = await this.created();
    await sendBase64Message(queue, text, { timeToLiveSeconds: TTL_SECONDS, visibilitySeconds: delaySeconds });
  }

  /** The queue's client, once the queue exists. */
  private created(): Promise<QueueClient> {
    this.ready ??= this.service()
      .then(async (service) => {
        const queue = service.getQueueClient(this.name);
        await queue.createIfNotExists();
        return queue;
      })
      .catch((error: unknown) => {
        this.ready = undefined;
        throw error;
      });
    return this.ready;
  }
}

function connectionStringService(connectionString: string): QueueService {
  let client: Promise<QueueServiceClient> | undefined;
  return () =>
    (client ??= import("@azure/storage-queue").then(({ QueueServiceClient }) =>
      QueueServiceClient.fromConnectionString(connectionString),
    ));
}
