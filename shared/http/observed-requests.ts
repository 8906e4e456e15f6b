import { performance } from "node:perf_hooks";
import { inRequestScope, type RequestScope } from "../lib/request-scope.js";
import type { RequestMeasure } from "../observability/metrics.js";
import { clientAddress } from "./client-address.js";
import type { FetchHandler } from "./fetch-handler.js";
import { REQUEST_ID_HEADER, requestId } from "./request-id.js";

/** One answered request, once its response body is sent (or abandoned). Nothing from its headers or query. */
export interface RequestRecord extends RequestMeasure {
  id: string;
  clientAddress: string | undefined;
  principal: string | undefined;
  userAgent: string | undefined;
  /** What made the answer an error (server errors are logged with it). */
  failure: unknown;
}

export type RequestEndObserver = (record: RequestRecord) => void;

export interface ObservationOptions {
  /** Believe a proxy's `X-Request-Id` and `X-Forwarded-For`. */
  trustProxy: boolean;
  /** The access log, metrics; none: only the request id is kept and returned. */
  observers: RequestEndObserver[];
}

/**
 * The outermost wrapper of every HTTP app: gives each request its id (the `X-Request-Id`
 * response header, the request scope that events and storage error logs read), and, when
 * anything observes requests, counts the bytes both ways and reports the request once its
 * response body has been sent.
 */
export function observeRequests(handle: FetchHandler, options: ObservationOptions): FetchHandler {
  const observers = options.observers;
  return (request, info) => {
    const scope: RequestScope = {
      id: requestId(request, options.trustProxy),
      clientAddress: clientAddress(request, info, options.trustProxy),
    };
    return inRequestScope(scope, async () => {
      if (observers.length === 0) return withRequestId(await handle(request, info), scope.id, undefined);
      const started = performance.now();
      let bytesIn = 0;
      const counted =
        request.body && !info.bytesIn
          ? new Request(request, {
              body: counting(request.body, (n) => (bytesIn += n)),
              duplex: "half",
            } as RequestInit)
          : request;
      const response = await handle(counted, info);
      let bytesOut = 0;
      const finish = () => {
        const record: RequestRecord = {
          id: scope.id,
          method: request.method,
          route: scope.route ?? "unmatched",
          status: response.status,
          seconds: (performance.now() - started) / 1000,
          bytesIn: info.bytesIn?.() ?? bytesIn,
          bytesOut,
          clientAddress: scope.clientAddress,
          principal: scope.principal,
          userAgent: request.headers.get("user-agent") ?? undefined,
          failure: scope.failure,
        };
        for (const observe of observers) {
          try {
            observe(record);
          } catch {
            // an observer's failure is never the client's
          }
        }
      };
      if (!response.body) {
        finish();
        return withRequestId(response, scope.id, undefined);
      }
      if (info.onSent) {
        // the adapter writes the body and reports its end: no stream in between
        info.onSent((written) => {
          bytesOut = written;
          finish();
        });
        return withRequestId(response, scope.id, undefined);
      }
      const body = counting(response.body, (n) => (bytesOut += n), finish);
      return withRequestId(response, scope.id, body);
    });
  };
}

/** The response with `X-Request-Id` (rebuilt when its body is replaced or its headers are immutable). */
function withRequestId(response: Response, id: string, body: ReadableStream<Uint8Array> | undefined): Response {
  if (body === undefined) {
    try {
      response.headers.set(REQUEST_ID_HEADER, id);
      return response;
    } catch {
      // immutable headers (a fetched response): copied below
    }
  }
  const headers = new Headers(response.headers);
  headers.set(REQUEST_ID_HEADER, id);
  const init = { status: response.status, statusText: response.statusText, headers };
  return new Response(body ?? response.body, init);
}

/**
 * The same stream, counting bytes as they pass; `done` runs once, at its end or when it is
 * cancelled (a client gone). Pulls only when read, so `Expect: 100-continue` still waits.
 */
function counting(
  source: ReadableStream<Uint8Array>,
  add: (bytes: number) => void,
  done?: () => void,
): ReadableStream<Uint8Array> {
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  let finished = false;
  const end = () => {
    if (!finished) {
      finished = true;
      done?.();
    }
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        reader ??= source.getReader();
        try {
          const { done: ended, value } = await reader.read();
          if (ended) {
            controller.close();
            end();
          } else {
            add(value.byteLength);
            controller.enqueue(value);
          }
        } catch (error) {
          end();
          controller.error(error);
        }
      },
      async cancel(reason) {
        end();
        await (reader ? reader.cancel(reason) : source.cancel(reason));
      },
    },
    { highWaterMark: 0 },
  );
}
