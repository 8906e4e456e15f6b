import type { IncomingHttpHeaders } from "node:http";
import {
  createHttpHeaders,
  RestError,
  type PipelinePolicy,
  type PipelineRequest,
  type PipelineResponse,
} from "@azure/core-rest-pipeline";
import { Agent, request as send, type Dispatcher } from "undici";

/**
 * An Azure SDK transport that receives answers with undici instead of node:http. node:http's
 * response parser copies every chunk of a body into a new Buffer: receiving 256 MiB from
 * Azurite cost 0.75-1.5 s of CPU with it and 0.15-0.3 s with undici on the bench machine, and
 * relaying a layer (a pull the server streams) spent most of its CPU there.
 *
 * A policy placed after the Sign phase, so it sends the request exactly as signed and every
 * other policy (retries, call metrics, error parsing) still applies. Only requests without a
 * body go this way (a download, a read, a delete); uploads, and anything the SDK's client
 * treats specially (a proxy's agent, TLS settings, progress callbacks, compressed answers),
 * go on to the SDK's own HTTP client unchanged.
 */
export function undiciTransportPolicy(dispatcher: Dispatcher = new Agent()): PipelinePolicy {
  return {
    name: "stowageUndiciTransport",
    sendRequest: (request, next) => (handledHere(request) ? receive(request, dispatcher) : next(request)),
  };
}

function handledHere(request: PipelineRequest): boolean {
  return (
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

async function receive(request: PipelineRequest, dispatcher: Dispatcher): Promise<PipelineResponse> {
  let answer: Dispatcher.ResponseData;
  try {
    answer = await send(request.url, {
      dispatcher,
      method: request.method as Dispatcher.HttpMethod,
      headers: request.headers.toJSON(),
      signal: request.abortSignal,
      // as the default client: `timeout` bounds the wait for the answer's headers, not its body
      ...(request.timeout > 0 ? { headersTimeout: request.timeout } : {}),
    });
  } catch (error) {
    // the SDKs' retry policies know an abort by its name and a failed send by this code
    if ((error as Error).name === "AbortError") throw error;
    const { message, code } = error as { message: string; code?: string };
    throw new RestError(message, { code: code ?? RestError.REQUEST_SEND_ERROR, request });
  }
  const response: PipelineResponse = { request, status: answer.statusCode, headers: headersOf(answer.headers) };
  const streamed = request.streamResponseStatusCodes;
  if (request.method === "HEAD") {
    answer.body.resume();
  } else if (streamed?.has(answer.statusCode) || streamed?.has(Number.POSITIVE_INFINITY)) {
    response.readableStreamBody = answer.body;
  } else {
    response.bodyAsText = await answer.body.text();
  }
  return response;
}

function headersOf(raw: IncomingHttpHeaders): ReturnType<typeof createHttpHeaders> {
  const headers = createHttpHeaders();
  for (const [name, value] of Object.entries(raw)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  return headers;
}
