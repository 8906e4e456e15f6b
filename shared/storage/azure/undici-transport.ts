import { RestError, type PipelinePolicy, type PipelineRequest, type PipelineResponse } from "@azure/core-rest-pipeline";
import type { Dispatcher } from "undici";
import { responseHeaders } from "./response-headers.js";

/**
 * An Azure SDK transport that receives answers with undici instead of node:http. node:http's
 * response parser copies every chunk of a body into a new Buffer: receiving 256 MiB from
 * Azurite cost 0.75-1.8 s of CPU with it and 0.15-0.3 s with undici on the bench machine, and
 * relaying a layer (a pull the server streams) spent most of its CPU there.
 *
 * A policy placed after the Sign phase, so it sends the request exactly as signed and every
 * other policy (retries, call metrics, error parsing) still applies. Only downloads go this way
 * (a GET whose answer the caller streams); every other call, and anything the SDK's client
 * treats specially (a proxy's agent, TLS settings, progress callbacks, compressed answers),
 * goes on to the SDK's own HTTP client unchanged. undici itself is imported by the first
 * download: it adds about 7 MiB of RSS that a server which never streams a blob does not need.
 * Unlike node:http, undici's Agent bounds a connect (10 s) and a stall of storage's answer
 * (300 s without bytes while the reader reads; a paused reader never times out), and the blob
 * SDK resumes a body that stalled from where it stopped.
 */
export function undiciTransportPolicy(dispatcher?: Dispatcher): PipelinePolicy {
  return {
    name: "stowageUndiciTransport",
    sendRequest: async (request, next) =>
      handledHere(request) ? receive(request, dispatcher ?? (await sharedAgent())) : next(request),
  };
}

let agent: Promise<Dispatcher> | undefined;

function sharedAgent(): Promise<Dispatcher> {
  // `default`: bundled, a CommonJS package's dynamic import has no named exports
  return (agent ??= import("undici").then(({ default: undici }) => new undici.Agent()));
}

function handledHere(request: PipelineRequest): boolean {
  return (
    request.method === "GET" &&
    (request.streamResponseStatusCodes?.size ?? 0) > 0 &&
    request.body === undefined &&
    request.multipartBody === undefined &&
    request.agent === undefined &&
    request.proxySettings === undefined &&
    request.tlsSettings === undefined &&
    request.onDownloadProgress === undefined &&
    request.onUploadProgress === undefined &&
    !/gzip|deflate/.test(request.headers.get("Accept-Encoding") ?? "")
  );
}

/** What the SDK's own client throws when the caller's signal ends a call; the retry policies stop on its name. */
class AbortError extends Error {
  override name = "AbortError";
}

/**
 * undici's codes for a connection that broke, among them a kept-alive one the server had just
 * closed: as node:http reports them (ECONNRESET), which the storage retry policy retries.
 */
const BROKEN_CONNECTION = new Set(["UND_ERR_SOCKET", "UND_ERR_CLOSED"]);

async function receive(request: PipelineRequest, dispatcher: Dispatcher): Promise<PipelineResponse> {
  const caller = request.abortSignal;
  if (caller?.aborted) throw new AbortError("The operation was aborted. Request has already been canceled.");
  // as the SDK's client: the caller's abort, whatever its reason, ends the call as an AbortError
  const abort = new AbortController();
  const onAbort = () => abort.abort();
  caller?.addEventListener("abort", onAbort);
  const release = () => caller?.removeEventListener("abort", onAbort);
  let answer: Dispatcher.ResponseData;
  try {
    const url = new URL(request.url);
    answer = await dispatcher.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: "GET",
      headers: request.headers.toJSON(),
      signal: abort.signal,
      // as the default client: `timeout` bounds the wait for the answer's headers, not its body
      ...(request.timeout > 0 ? { headersTimeout: request.timeout } : {}),
    });
  } catch (error) {
    release();
    if (caller?.aborted) throw new AbortError("The operation was aborted.", { cause: error });
    const { message, code } = error as { message: string; code?: string };
    const known = code !== undefined && BROKEN_CONNECTION.has(code) ? "ECONNRESET" : code;
    throw new RestError(message, { code: known ?? RestError.REQUEST_SEND_ERROR, request });
  }
  answer.body.once("close", release);
  const response: PipelineResponse = { request, status: answer.statusCode, headers: responseHeaders(answer.headers) };
  const streamed = request.streamResponseStatusCodes;
  if (streamed?.has(answer.statusCode) || streamed?.has(Number.POSITIVE_INFINITY)) {
    response.readableStreamBody = answer.body;
  } else {
    response.bodyAsText = await answer.body.text();
  }
  return response;
}
