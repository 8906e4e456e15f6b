import { randomBytes } from "node:crypto";
import { TableClient } from "@azure/data-tables";
import type { DeadLetter, DeadLetterStore, SubscriptionStore } from "../../webhooks/ports.js";
import { subscriptionSchema, type Subscription } from "../../webhooks/subscription.js";
import type { WebhookEvent } from "../../webhooks/webhook-event.js";
import { odata } from "./table-keys.js";
import { deleteRow, getRow, isStatus, listRows, type Row } from "./table-rows.js";

/**
 * Webhook data in one table, `<prefix>webhooks`: partition `subscription` (RowKey = name, the
 * subscription as JSON: its secret must be readable to sign with, so the table is as
 * sensitive as the app settings) and partition `deadletter` (RowKey = a time-ordered id).
 */
const SUBSCRIPTION = "subscription";
const DEAD_LETTER = "deadletter";

export async function createAzureWebhookStores(options: {
  connectionString: string;
  tablePrefix: string;
}): Promise<{ subscriptions: SubscriptionStore; deadLetters: DeadLetterStore }> {
  const table = TableClient.fromConnectionString(options.connectionString, `${options.tablePrefix}webhooks`, {
    allowInsecureConnection: true,
  });
  await table.createTable();
  return { subscriptions: new AzureSubscriptionStore(table), deadLetters: new AzureDeadLetterStore(table) };
}

export class AzureSubscriptionStore implements SubscriptionStore {
  constructor(private readonly table: TableClient) {}

  async list(): Promise<Subscription[]> {
    return (await listRows(this.table, SUBSCRIPTION)).map(toSubscription);
  }

  async get(name: string): Promise<Subscription | undefined> {
    const row = await getRow(this.table, SUBSCRIPTION, name);
    return row && toSubscription(row);
  }

  async create(subscription: Subscription): Promise<boolean> {
    try {
      await this.table.createEntity({
        partitionKey: SUBSCRIPTION,
        rowKey: subscription.name,
        subscription: JSON.stringify(subscription),
      });
      return true;
    } catch (error) {
      if (isStatus(error, 409)) return false;
      throw error;
    }
  }

  delete(name: string): Promise<boolean> {
    return deleteRow(this.table, SUBSCRIPTION, name);
  }
}

/** Re-validated on read: a hand-edited row fails loudly instead of misdelivering. */
function toSubscription(row: Row): Subscription {
  return subscriptionSchema.parse(JSON.parse(row.subscription as string));
}

export class AzureDeadLetterStore implements DeadLetterStore {
  constructor(private readonly table: TableClient) {}

  async add(letter: Omit<DeadLetter, "id">): Promise<DeadLetter> {
    // time-ordered (base36 milliseconds, fixed width) so a listing reads oldest first
    const id = `${Date.now().toString(36).padStart(9, "0")}-${randomBytes(4).toString("hex")}`;
    await this.table.createEntity({
      partitionKey: DEAD_LETTER,
      rowKey: id,
      subscription: letter.subscription,
      event: JSON.stringify(letter.event),
      attempts: letter.attempts,
      lastOutcome: letter.lastOutcome,
      failedAt: letter.failedAt,
    });
    return { id, ...letter };
  }

  async list(subscription?: string): Promise<DeadLetter[]> {
    const rows = await listRows(this.table, DEAD_LETTER, subscription && `subscription eq ${odata(subscription)}`);
    return rows.map(toDeadLetter);
  }

  async get(id: string): Promise<DeadLetter | undefined> {
    const row = await getRow(this.table, DEAD_LETTER, id);
    return row && toDeadLetter(row);
  }

  delete(id: string): Promise<boolean> {
    return deleteRow(this.table, DEAD_LETTER, id);
  }
}

function toDeadLetter(row: Row): DeadLetter {
  return {
    id: row.rowKey as string,
    subscription: row.subscription as string,
    event: JSON.parse(row.event as string) as WebhookEvent,
    attempts: row.attempts as number,
    lastOutcome: row.lastOutcome as string,
    failedAt: row.failedAt as string,
  };
}
