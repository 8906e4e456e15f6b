import { randomBytes } from "node:crypto";
import type { TableClient } from "@azure/data-tables";
import type {
  DeadLetterRecord,
  DeadLetterStore,
  SubscriptionRecord,
  SubscriptionStore,
} from "../ports/webhook-storage.js";
import { odata } from "./table-keys.js";
import { deleteRow, getRow, isStatus, listRows, type Row } from "./table-rows.js";

/**
 * Webhook data in one table, `<prefix>webhooks`: partition `subscription` (RowKey = name, the
 * subscription as JSON: its secret must be readable to sign with, so the table is as
 * sensitive as the app settings) and partition `deadletter` (RowKey = a time-ordered id).
 */
const SUBSCRIPTION = "subscription";
const DEAD_LETTER = "deadletter";

export class AzureSubscriptionStore implements SubscriptionStore {
  constructor(private readonly table: TableClient) {}

  async list(): Promise<SubscriptionRecord[]> {
    return (await listRows(this.table, SUBSCRIPTION)).map(toSubscription);
  }

  async get(name: string): Promise<SubscriptionRecord | undefined> {
    const row = await getRow(this.table, SUBSCRIPTION, name);
    return row && toSubscription(row);
  }

  async create(subscription: SubscriptionRecord): Promise<boolean> {
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

/** The stored JSON as it is; the webhooks domain validates it. */
function toSubscription(row: Row): SubscriptionRecord {
  return JSON.parse(row.subscription as string) as SubscriptionRecord;
}

export class AzureDeadLetterStore implements DeadLetterStore {
  constructor(private readonly table: TableClient) {}

  async add(letter: Omit<DeadLetterRecord, "id">): Promise<DeadLetterRecord> {
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

  async list(subscription?: string): Promise<DeadLetterRecord[]> {
    const rows = await listRows(this.table, DEAD_LETTER, subscription && `subscription eq ${odata(subscription)}`);
    return rows.map(toDeadLetter);
  }

  async get(id: string): Promise<DeadLetterRecord | undefined> {
    const row = await getRow(this.table, DEAD_LETTER, id);
    return row && toDeadLetter(row);
  }

  delete(id: string): Promise<boolean> {
    return deleteRow(this.table, DEAD_LETTER, id);
  }
}

function toDeadLetter(row: Row): DeadLetterRecord {
  return {
    id: row.rowKey as string,
    subscription: row.subscription as string,
    event: JSON.parse(row.event as string) as unknown,
    attempts: row.attempts as number,
    lastOutcome: row.lastOutcome as string,
    failedAt: row.failedAt as string,
  };
}
