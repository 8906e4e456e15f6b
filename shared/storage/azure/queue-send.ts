import {
  createPipelineRequest,
  RestError,
  type PipelineRequest,
  type PipelineResponse,
} from "@azure/core-rest-pipeline";
import type { QueueClient } from "@azure/storage-queue";

/** What the queue SDK sends (`x-ms-version`; a pinning policy replaces it). */
export const QUEUE_SDK_API_VERSION = "2026-04-06";

/** The queue client's generated client, which owns its pipeline and HTTP client (kept protected by the SDK). */
interface ClientContext {
  sendRequest(request: PipelineRequest): Promise<PipelineResponse>;
}

/**
 * Puts a message as the SDK's `sendMessage` puts it (same URL, headers and XML body, through
 * the queue client's own pipeline: credentials, pinned API version, retries, call metrics), the
 * text in base64. The answer is not parsed: the SDK's XML parsing of it and its XML serialization
 * cost more CPU than the rest of the call, and every acknowledged manifest PUT makes one.
 */
export async function sendBase64Message(
  queue: QueueClient,
  text: string,
  options: { timeToLiveSeconds: number; visibilitySeconds: number },
): Promise<void> {
  // a SAS in the queue's URL comes first, as the SDK appends the operation's parameters to it
  const [base, sas] = queue.url.split("?");
  const query = `visibilitytimeout=${options.visibilitySeconds}&messagettl=${options.timeToLiveSeconds}`;
  const url = `${base}/messages?${sas ? `${sas}&` : ""}${query}`;
  // the SDK's clients allow http (Azurite, the embedded storage)
  const request = createPipelineRequest({ url, method: "POST", allowInsecureConnection: true });
  request.headers.set("Content-Type", "application/xml");
  request.headers.set("Accept", "application/xml");
  request.headers.set("x-ms-version", QUEUE_SDK_API_VERSION);
  // base64 needs no XML escaping
  request.body =
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><QueueMessage><MessageText>' +
    Buffer.from(text).toString("base64") +
    "</MessageText></QueueMessage>";
  // a success is streamed, so the pipeline does not parse its XML; drained for the connection's reuse
  request.streamResponseStatusCodes = new Set([201]);
  const context = (queue as unknown as { storageClientContext: ClientContext }).storageClientContext;
  const response = await context.sendRequest(request);
  if (response.status === 201) {
    response.readableStreamBody?.resume();
    return;
  }
  throw new RestError(response.headers.get("x-ms-error-code") ?? `queue storage answered ${response.status}`, {
    code: response.headers.get("x-ms-error-code"),
    statusCode: response.status,
    request,
    response,
  });
}
