import { randomUUID } from "node:crypto";

/** What happened (which actions are recorded is configured: STOWAGE_EVENT_ACTIONS). */
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

/** Who made a request and through what: what an event says about the request behind it. */
export interface RequestOrigin {
  /** The request's id as the access log shows it (a new one when unknown). */
  requestId?: string | undefined;
  /** The authenticated identity, if any. */
  actor: string | undefined;
  /** The client's address ("" when unknown). */
  addr: string;
  host: string;
  method: string;
  useragent: string;
  /** The registry's base URL as clients reach it (event target URLs start with it). */
  baseUrl: string;
}

/** This process, as events name their source. */
export const INSTANCE_ID = randomUUID();

export function newEventId(): string {
  return randomUUID();
}
