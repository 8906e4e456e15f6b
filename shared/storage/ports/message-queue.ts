/** Queues of JSON messages (Azure Storage queues): events, webhook deliveries. */

/** Sends a message, visible after `delaySeconds` (the retry backoff). */
export interface MessageSender<T> {
  send(value: T, delaySeconds?: number): Promise<void>;
}

/** A message taken from a queue, invisible to other consumers while its lease lasts. */
export interface ReceivedMessage {
  text: string;
  dequeueCount: number;
  /** When it was first queued (its age says how far delivery is behind). */
  insertedOn?: Date;
  /** Extends the lease (long deliveries must not reappear to another consumer meanwhile). */
  renew(leaseSeconds: number): Promise<void>;
  /** Done with it: only once its work is durably handed on. */
  remove(): Promise<void>;
  /** Gives up on it: moved to the `<queue>-poison` queue, as the Functions host does. */
  poison(): Promise<void>;
}

export interface MessageReceiver {
  readonly name: string;
  receive(max: number, leaseSeconds: number): Promise<ReceivedMessage[]>;
}
