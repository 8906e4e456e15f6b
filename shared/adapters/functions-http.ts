import type { HttpRequest, HttpResponseInit } from "@azure/functions";
import { lastForwardedFor } from "../http/client-address.js";
import type { FetchHandler } from "../http/fetch-handler.js";

/**
 * The Azure Functions adapter: HttpRequest -> Request, Response -> HttpResponseInit.
 * With `app.setup({ enableHttpStream: true })` both bodies are streams, so a layer passes
 * through without being buffered. Translation only; no registry logic.
 */
export async function serveFunctionsRequest(handle: FetchHandler, request: HttpRequest): Promise<HttpResponseInit> {
  const init: RequestInit & { duplex?: "half" } = { method: request.method, headers: request.headers };
  if (request.method !== "GET" && request.method !== "HEAD" && request.body) {
    init.body = request.body as unknown as ReadableStream;
    init.duplex = "half"; // required by fetch for a streamed request body
  }
  const fetchRequest = new Request(request.url, init);
  // the Functions front end is a proxy: the client is the address it appended to X-Forwarded-For
  const response = await handle(fetchRequest, { clientAddress: lastForwardedFor(fetchRequest.headers) });
  return toHttpResponse(response, request.method);
}

async function toHttpResponse(response: Response, method: string): Promise<HttpResponseInit> {
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
