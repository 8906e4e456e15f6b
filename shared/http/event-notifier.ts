import { hostname } from "node:os";
import {
  INSTANCE_ID,
  newEventId,
  type EventAction,
  type EventSink,
  type EventTarget,
} from "../events/registry-event.js";
import { RegistryError } from "../registry/errors.js";
import { clientAddress } from "./client-address.js";

/** Records that `action` happened to `target`, before the request is answered. */
export type Notify = (
  action: EventAction,
  kind: "manifests" | "blobs",
  target: Omit<EventTarget, "url" | "length">,
) => Promise<void>;

export interface EventOptions {
  sink: EventSink;
  /** Actions recorded; others are dropped here. */
  actions: ReadonlySet<EventAction>;
  /** Take the client address from X-Forwarded-For (only behind a trusted proxy). */
  trustProxy: boolean;
}

/**
 * Builds the notifier for one request: it fills in who asked, from where and through which
 * instance. A failed publish fails the request (500): the client retries the idempotent
 * operation, so every acknowledged change has its event (at least once).
 */
export function notifierFor(request: Request, subject: string | undefined, options: EventOptions | undefined): Notify {
  if (!options) return async () => {};
  return async (action, kind, target) => {
    if (!options.actions.has(action)) return;
    const url = new URL(request.url);
    const reference = target.digest ?? target.tag;
    const event = {
      id: newEventId(),
      timestamp: new Date().toISOString(),
      action,
      target: {
        ...target,
        ...(target.size !== undefined ? { length: target.size } : {}),
        ...(reference ? { url: `${url.origin}/v2/${target.repository}/${kind}/${reference}` } : {}),
      },
      request: {
        id: newEventId(),
        addr: clientAddress(request, options.trustProxy) ?? "",
        host: url.host,
        method: request.method,
        useragent: request.headers.get("user-agent") ?? "",
      },
      actor: subject ? { name: subject } : {},
      source: { addr: hostname(), instanceID: INSTANCE_ID },
    };
    try {
      await options.sink.publish(event);
    } catch (error) {
      throw new RegistryError("UNKNOWN", "the change was stored but its event could not be queued; retry the request", {
        cause: error instanceof Error ? error.message : String(error),
      });
    }
  };
}
