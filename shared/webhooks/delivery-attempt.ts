import { renderEvent } from "./formats.js";
import { SIGNATURE_HEADER, signatureHeader } from "./signing.js";
import type { Subscription } from "./subscription.js";
import type { WebhookEvent } from "./webhook-event.js";

export interface AttemptResult {
  ok: boolean;
  /** `HTTP 500`, `timeout after 10000 ms`, `ECONNREFUSED`: never a header value or secret. */
  outcome: string;
}

/**
 * One POST of one event to one subscription, bounded by its timeout. Any 2xx is success;
 * anything else (3xx included: redirects are not followed, they could lead anywhere) is a
 * failure to retry. The response body is read and discarded so the connection is released.
 */
export async function attemptDelivery(
  subscription: Subscription,
  event: WebhookEvent,
  options: { attempt: number; defaultTimeoutMs: number },
): Promise<AttemptResult> {
  const { contentType, body } = renderEvent(subscription.format ?? "distribution", event);
  const headers: Record<string, string> = {
    ...subscription.headers,
    "Content-Type": contentType,
    "User-Agent": "stowage-webhooks/1",
    "Stowage-Event-Id": event.id,
    "Stowage-Delivery-Attempt": String(options.attempt),
  };
  if (subscription.secret) {
    headers[SIGNATURE_HEADER] = signatureHeader(subscription.secret, body, Math.floor(Date.now() / 1000));
  }
  const timeoutMs = subscription.timeoutMs ?? options.defaultTimeoutMs;
  try {
    const response = await fetch(subscription.url, {
      method: "POST",
      headers,
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body?.cancel();
    const ok = response.status >= 200 && response.status < 300;
    return { ok, outcome: `HTTP ${response.status}` };
  } catch (error) {
    if (error instanceof DOMException && error.name === "TimeoutError") {
      return { ok: false, outcome: `timeout after ${timeoutMs} ms` };
    }
    return { ok: false, outcome: failureReason(error) };
  }
}

/** fetch's network errors hide the reason in `cause` (ECONNREFUSED, ENOTFOUND, ...). */
function failureReason(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (typeof cause?.code === "string") return cause.code;
  if (typeof cause?.message === "string") return cause.message;
  return error instanceof Error ? error.message : String(error);
}
