import type { WebhookFormat } from "./subscription.js";
import type { WebhookEvent } from "./webhook-event.js";

export const DISTRIBUTION_EVENTS = "application/vnd.docker.distribution.events.v1+json";

export interface RenderedBody {
  contentType: string;
  body: string;
}

/**
 * The request body for one event:
 * - `distribution`: distribution's notification envelope, one event per envelope;
 * - `acr`: the Azure Container Registry webhook body (the event itself, ACR's fields only);
 * - `cloudevents`: CloudEvents 1.0 structured JSON, the event as `data` (Event Grid style).
 */
export function renderEvent(format: WebhookFormat, event: WebhookEvent): RenderedBody {
  switch (format) {
    case "distribution":
      return { contentType: DISTRIBUTION_EVENTS, body: JSON.stringify({ events: [event] }) };
    case "acr":
      return { contentType: "application/json", body: JSON.stringify(acrBody(event)) };
    case "cloudevents":
      return { contentType: "application/cloudevents+json; charset=utf-8", body: JSON.stringify(cloudEvent(event)) };
  }
}

/** ACR's fields: its target has no url, its request no client address. */
function acrBody(event: WebhookEvent) {
  const target = { ...event.target };
  delete target.url;
  const { id, host, method, useragent } = event.request;
  return {
    id: event.id,
    timestamp: event.timestamp,
    action: event.action,
    target,
    request: { id, host, method, useragent },
  };
}

function cloudEvent(event: WebhookEvent) {
  const { repository, tag, digest, url } = event.target;
  const subject = tag ? `${repository}:${tag}` : digest ? `${repository}@${digest}` : repository;
  return {
    specversion: "1.0",
    id: event.id,
    // the registry as clients reach it when known, else this product
    source: url ? new URL(url).origin : "/stowage",
    type: `io.stowage.registry.${event.action}`,
    time: event.timestamp,
    ...(subject ? { subject } : {}),
    datacontenttype: "application/json",
    data: event,
  };
}
