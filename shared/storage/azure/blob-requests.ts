import { createPipelineRequest, RestError, type Pipeline, type PipelineResponse } from "@azure/core-rest-pipeline";
import type { ContainerClient } from "@azure/storage-blob";
import { smallCallClient } from "./small-call-client.js";

/**
 * A blob call sent as the SDK's generated client sends it (same URL, headers and body, through
 * the container's own pipeline: credentials, pinned API version, retries, call metrics), without
 * the SDK's per-call machinery: a blob client built per name (three URL parses and a generated
 * client per call), a tracing span, and the operation's (de)serialization through its mappers.
 * Used for the calls every small upload makes (Put Blob, Set Blob Metadata): a small blob pushed
 * costs seven storage calls, whose client side is a large part of the server's CPU per blob.
 */
export async function sendBlobRequest(
  container: ContainerClient,
  blobName: string,
  options: { query?: string; headers: Record<string, string>; body?: Uint8Array },
  /** The status the operation answers on success; any other is thrown as the SDK throws it. */
  expected: number,
): Promise<PipelineResponse> {
  const context = contextOf(container);
  const request = createPipelineRequest({ url: blobUrl(container.url, blobName, options.query), method: "PUT" });
  request.headers.set("x-ms-version", context.version);
  for (const [name, value] of Object.entries(options.headers)) request.headers.set(name, value);
  request.headers.set("Accept", "application/xml");
  if (options.body !== undefined) {
    request.body = options.body;
    // signed (Shared Key covers Content-Length), so set before the pipeline signs, as the SDK does
    request.headers.set("Content-Length", String(options.body.byteLength));
  }
  // as the blob SDK's client options (Pipeline.js getCoreClientOptions): plain HTTP is allowed
  request.allowInsecureConnection = true;
  const response = await context.pipeline.sendRequest(smallCallClient(), request);
  if (response.status !== expected) throw blobServiceError(response);
  return response;
}

/** The metadata headers of a note (`x-ms-meta-<name>`), as the SDK sends `metadata`. */
export function metadataHeaders(metadata: Record<string, string> | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(metadata ?? {})) headers[`x-ms-meta-${name}`] = value;
  return headers;
}

interface GeneratedClient {
  pipeline: Pipeline;
  /** The API version the generated client sends (`x-ms-version`; a pinning policy replaces it). */
  version: string;
}

/** The container's generated client, whose pipeline every blob client derived from it shares. */
function contextOf(container: ContainerClient): GeneratedClient {
  const context = (container as unknown as { storageClientContext?: Partial<GeneratedClient> }).storageClientContext;
  if (typeof context?.pipeline?.sendRequest !== "function" || typeof context.version !== "string")
    throw new Error("this blob container client has no pipeline to send through");
  return context as GeneratedClient;
}

/**
 * The blob's URL as `getBlockBlobClient` builds it: each path segment URI-encoded (and `'`,
 * which encodeURIComponent keeps), after the container's path, before its query (a SAS).
 */
export function blobUrl(containerUrl: string, blobName: string, query?: string): string {
  const url = new URL(containerUrl);
  const base = url.pathname.endsWith("/") ? url.pathname : `${url.pathname}/`;
  const path = blobName
    .split("/")
    .map((segment) => encodeURIComponent(segment).replace(/'/g, "%27"))
    .join("/");
  url.pathname = `${base}${path}`;
  if (query) url.search = url.search ? `${url.search}&${query}` : `?${query}`;
  return url.toString();
}

/** What the SDK throws for a failed blob call: a RestError with the status and the service's error code. */
function blobServiceError(response: PipelineResponse): RestError {
  const code = response.headers.get("x-ms-error-code") ?? undefined;
  const message = /<Message>([^<]*)<\/Message>/.exec(response.bodyAsText ?? "")?.[1];
  return new RestError(message ?? `blob storage answered ${response.status}${code ? ` (${code})` : ""}`, {
    code,
    statusCode: response.status,
    request: response.request,
    response,
  });
}
