import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import { lastForwardedFor, recordClientAddress } from "../http/client-address.js";

/**
 * The Azure Functions adapter: HttpRequest -> Request, Response -> HttpResponseInit.
 * With `app.setup({ enableHttpStream: true })` both bodies are streams, so a layer passes
 * through without being buffered. Translation only; no registry logic.
 */
export function toFetchRequest(request: HttpRequest): Request {
  const init: RequestInit & { duplex?: "half" } = { method: request.method, headers: request.headers };
  if (request.method !== "GET" && request.method !== "HEAD" && request.body) {
    init.body = request.body as unknown as ReadableStream;
    init.duplex = "half"; // required by fetch for a streamed request body
  }
  // the Functions front end is a proxy: the client is the address it appended to X-Forwarded-For
  const fetchRequest = new Request(request.url, init);
  return recordClientAddress(fetchRequest, lastForwardedFor(fetchRequest));
}

export async function toHttpResponse(response: Response, method: string): Promise<HttpResponseInit> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, key) => {
    headers[key] = value;
  });
  if (method === "HEAD" || !response.body) {
    await response.body?.cancel();
    return { status: response.status, headers };
  }
  return { status: response.status, headers, body: response.body as unknown as HttpResponseInit["body"] };
}

/**
 * Builds the core once per cold start and reuses it. A failed start (storage unreachable)
 * is not cached, so the next invocation tries again.
 */
export function lazy<T>(create: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= create().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return pending;
  };
}
