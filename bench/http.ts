import { Agent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { request as undiciRequest } from "undici";
import { authHeaders } from "./credentials.js";

/** A keep-alive agent, as registry clients use. */
export function keepAliveAgent(maxSockets: number): Agent {
  return new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
}

export interface RequestOptions {
  method: string;
  headers?: Record<string, string>;
  /** A buffer (sent with Content-Length) or a stream of chunks (sent chunked, with backpressure). */
  body?: Buffer | string | AsyncIterable<Buffer> | Iterable<Buffer>;
  agent?: Agent;
  timeoutMs: number;
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Refuses anything but loopback: the benchmark never talks to another host. */
export function assertLoopback(url: URL): void {
  if (url.hostname !== "127.0.0.1") throw new Error(`benchmark targets 127.0.0.1 only, not ${url.host}`);
}

/** Sends a request and returns the response head, with its body still to be read. */
export async function send(url: string | URL, options: RequestOptions): Promise<IncomingMessage> {
  const target = new URL(url);
  assertLoopback(target);
  const headers: Record<string, string> = { ...(await authHeaders(target)), ...options.headers };
  const body = options.body;
  if (typeof body === "string" || Buffer.isBuffer(body)) headers["Content-Length"] = String(Buffer.byteLength(body));
  else if (body === undefined && ["POST", "PUT", "PATCH"].includes(options.method) && !headers["Content-Length"]) {
    headers["Content-Length"] = "0";
  }
  const req = httpRequest(target, {
    method: options.method,
    headers,
    agent: options.agent ?? false,
    signal: AbortSignal.timeout(options.timeoutMs),
  });
  const response = new Promise<IncomingMessage>((resolve, reject) => {
    req.once("response", resolve);
    req.once("error", reject);
  });
  let sending: Promise<unknown> = Promise.resolve();
  if (body === undefined) req.end();
  else if (typeof body === "string" || Buffer.isBuffer(body)) req.end(body);
  // a server that answers early (an error) may close before the body is sent: the answer wins
  else sending = pipeline(Readable.from(body, { objectMode: false }), req).catch((error: unknown) => error);
  const res = await response;
  const sendError = await sending;
  if (sendError instanceof Error && res.statusCode !== undefined && res.statusCode < 400) throw sendError;
  return res;
}

/** A large answer, its body still to be read. */
export interface Download {
  status: number;
  headers: IncomingHttpHeaders;
  body: AsyncIterable<Uint8Array> & { dump(): Promise<void> };
}

/**
 * GETs a large body with undici, as the registry's own downloads now are. node:http's client
 * copies every chunk it receives: here it spent about 1 s of CPU per 256 MiB, as much as the
 * registry under test on the same 2 cores, where the clients the registry serves (Go's
 * net/http in docker, containerd, skopeo) do not. The large-layer pulls and the raw download
 * they are compared with both use this, so the comparison stays like for like.
 */
export async function download(url: string | URL, timeoutMs: number): Promise<Download> {
  const target = new URL(url);
  assertLoopback(target);
  const answer = await undiciRequest(target, {
    method: "GET",
    headers: await authHeaders(target),
    signal: AbortSignal.timeout(timeoutMs),
  });
  return { status: answer.statusCode, headers: answer.headers as IncomingHttpHeaders, body: answer.body };
}

/** Sends a request and reads the whole (small) response body. */
export async function call(url: string | URL, options: RequestOptions): Promise<Reply> {
  const res = await send(url, options);
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) };
}

/** Throws with the registry's answer when the status is not the expected one. */
export function expectStatus(reply: Reply, expected: number | number[], what: string): Reply {
  const allowed = Array.isArray(expected) ? expected : [expected];
  if (!allowed.includes(reply.status)) {
    const text = reply.body.toString("utf8", 0, Math.min(reply.body.length, 500));
    throw new Error(`${what}: expected ${allowed.join("/")}, got ${reply.status} ${text}`);
  }
  return reply;
}

/** The Location header resolved against the registry's URL (distribution sends absolute ones). */
export function location(reply: Reply, base: string, what: string): URL {
  const value = reply.headers.location;
  if (!value) throw new Error(`${what}: no Location header`);
  const url = new URL(value, base);
  assertLoopback(url);
  return url;
}

/** `url` with one more query parameter. */
export function withQuery(url: URL, key: string, value: string): URL {
  const next = new URL(url);
  // appended by hand: re-serialising the existing query could re-encode an opaque state token
  const pair = `${encodeURIComponent(key)}=${encodeURIComponent(value)}`;
  next.search = next.search ? `${next.search}&${pair}` : `?${pair}`;
  return next;
}
