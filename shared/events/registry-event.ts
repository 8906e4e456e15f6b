import { randomUUID } from "node:crypto";

/** What happened. `push` and `delete` are always recorded; `pull` and `mount` on request. */
export type EventAction = "push" | "delete" | "pull" | "mount";

/** The content an event is about, in distribution's notification vocabulary. */
export interface EventTarget {
  mediaType?: string;
  digest?: string;
  size?: number;
  /** Same as size; distribution sends both. */
  length?: number;
  repository: string;
  /** Where the content can be fetched (absolute when the request's origin is known). */
  url?: string;
  tag?: string;
}

/**
 * One registry event, shaped like an entry of distribution's notification envelope
 * (`application/vnd.docker.distribution.events.v1+json`), so existing receivers understand it.
 */
export interface RegistryEvent {
  id: string;
  timestamp: string;
  action: EventAction;
  target: EventTarget;
  request: { id: string; addr: string; host: string; method: string; useragent: string };
  actor: { name?: string };
  source: { addr: string; instanceID: string };
}

/** Where events go before a request is acknowledged (an Azure Storage queue in production). */
export interface EventSink {
  publish(event: RegistryEvent): Promise<void>;
}

/** This process, as events name their source. */
export const INSTANCE_ID = randomUUID();

export function newEventId(): string {
  return randomUUID();
}
