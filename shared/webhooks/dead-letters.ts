import type { DeadLetterRecord, DeadLetterStore } from "../storage/ports/webhook-storage.js";
import { asWebhookEvent, type WebhookEvent } from "./webhook-event.js";

/** A delivery that used up its attempts, kept until it is replayed. */
export interface DeadLetter extends Omit<DeadLetterRecord, "event"> {
  event: WebhookEvent;
}

/** The dead-letter store, with each event checked as it is read back. */
export class DeadLetters {
  constructor(private readonly store: DeadLetterStore) {}

  async add(letter: Omit<DeadLetter, "id">): Promise<DeadLetter> {
    return typed(await this.store.add(letter));
  }

  async list(subscription?: string): Promise<DeadLetter[]> {
    return (await this.store.list(subscription)).map(typed);
  }

  async get(id: string): Promise<DeadLetter | undefined> {
    const letter = await this.store.get(id);
    return letter && typed(letter);
  }

  delete(id: string): Promise<boolean> {
    return this.store.delete(id);
  }
}

function typed(record: DeadLetterRecord): DeadLetter {
  return { ...record, event: asWebhookEvent(record.event) };
}
