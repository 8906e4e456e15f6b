import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import type { SecureContextOptions } from "node:tls";
import type { Duplex } from "node:stream";
import { errorResponse } from "../http/error-response.js";
import type { FetchHandler, RequestInfo } from "../http/fetch-handler.js";
import { methodNotAllowed } from "../http/http-error.js";
import { requestUrl } from "../http/request-target.js";
import { takeBytes } from "../lib/bytes-stream.js";
import { pipeNodeStream, takeNodeSource, webStreamOf, writeWebStream } from "../lib/node-web-streams.js";
import type { ServerLimits } from "../app/config.js";
import { guardBodyRate, limitConnectionsPerAddress } from "./server-limits.js";

/** Bytes of an unread request body still read (and dropped) after an early answer, so the client sees it. */
const DRAIN_LIMIT = 8 * 1024 * 1024;
const METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];

/** The plain or the TLS server: the same events and limits, only the handshake differs. */
export type NodeServer = Server | HttpsServer;

/**
 * The Node HTTP adapter: IncomingMessage -> Request, Response -> ServerResponse, with bodies
 * streamed both ways (a layer never sits in memory). Translation, and the limits only the
 * connection can enforce (see server-limits.ts); no registry logic. With `tls` it serves
 * HTTPS (HTTP/1.1 with keep-alive, as registry clients expect); the certificate can be
 * replaced later with `server.setSecureContext`.
 */
export function createNodeServer(handle: FetchHandler, limits: ServerLimits, tls?: SecureContextOptions): NodeServer {
  const options = {
    headersTimeout: limits.headersTimeoutMs,
    // a large layer can take longer than any fixed limit: bodies are held to a minimum rate instead
    requestTimeout: 0,
    keepAliveTimeout: limits.idleTimeoutMs,
    // how often the headers timeout is checked (Node's default, 30 s, would let slow headers linger)
    connectionsCheckingInterval: 1000,
  };
  const server: NodeServer = tls
    ? // a handshake that stalls holds a socket like slow headers do: same bound (Node's default is 120 s)
      createHttpsServer({ ...options, ...tls, handshakeTimeout: limits.headersTimeoutMs })
    : createServer(options);
  const scheme = tls ? "https" : "http";
  const respond = (req: IncomingMessage, res: ServerResponse, expectsContinue: boolean) =>
    serve(handle, req, res, limits, expectsContinue, scheme).catch((error: unknown) => {
      // the client went away mid-body, or the response stream broke: nothing left to tell it
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy(error instanceof Error ? error : undefined);
    });
  server.on("request", (req, res) => void respond(req, res, false));
  // `Expect: 100-continue`: the 100 goes out only once the handler reads the body, so a
  // request refused early (401, 413) never makes the client send it
  server.on("checkContinue", (req, res) => void respond(req, res, true));
  server.on("clientError", answerUnparsable);
  server.maxConnections = limits.maxConnections;
  limitConnectionsPerAddress(server, limits.maxConnectionsPerAddress);
  return server;
}

/**
 * A request Node's parser refused (an unknown method, oversized headers, the headers
 * timeout): answered in the registry's error JSON like everything else, then closed.
 */
function answerUnparsable(error: NodeJS.ErrnoException, socket: Duplex): void {
  // a TLS failure (a handshake that times out or fails) has no HTTP to answer in: just close
  const httpError = error.code?.startsWith("HPE_") || error.code === "ERR_HTTP_REQUEST_TIMEOUT";
  if (!socket.writable || !httpError) return void socket.destroy();
  const status = error.code === "HPE_HEADER_OVERFLOW" ? 431 : error.code === "ERR_HTTP_REQUEST_TIMEOUT" ? 408 : 400;
  const body = JSON.stringify({ errors: [{ code: "UNSUPPORTED", message: "malformed HTTP request", detail: {} }] });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    () => socket.destroy(), // whatever the client still sends is not read
  );
}

async function serve(
  handle: FetchHandler,
  req: IncomingMessage,
  res: ServerResponse,
  limits: ServerLimits,
  expectsContinue: boolean,
  scheme: "http" | "https",
): Promise<void> {
  const method = req.method ?? "GET";
  let url: string;
  try {
    // the scheme makes the challenge's realm (the token URL) https when this server speaks TLS
    url = requestUrl(req.url ?? "", req.headers.host, scheme);
  } catch (error) {
    return void (await send(errorResponse(error, method), req, res, limits));
  }
  if (!METHODS.includes(method))
    return void (await send(errorResponse(methodNotAllowed(method, METHODS), method), req, res, limits));
  const init: RequestInit & { duplex?: "half" } = { method };
  let continued = !expectsContinue;
  let body: ReadableStream<Uint8Array> | undefined;
  let bytesIn = 0;
  if (method !== "GET" && method !== "HEAD" && hasBody(req)) {
    const onFirstPull = () => {
      continued = true;
      res.writeContinue();
    };
    const onChunk = (bytes: number) => (bytesIn += bytes);
    const options = { keepOnCancel: true, fromClient: true, onChunk };
    body = webStreamOf(req, expectsContinue ? { ...options, onFirstPull } : options);
    init.body = body;
    init.duplex = "half"; // required by fetch for a streamed request body
  }
  const stopGuard = guardBodyRate(req, limits);
  let sent: ((bytesOut: number) => void) | undefined;
  let bytesOut = 0;
  const info: RequestInfo = {
    clientAddress: req.socket.remoteAddress,
    onSent: (callback) => (sent = callback),
    bytesIn: () => bytesIn,
  };
  try {
    const request = new Request(url, init);
    // into the request's own headers: a Headers given in `init` would be copied once more
    const headers = request.headers;
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      headers.append(req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string);
    }
    const response = await handle(request, info);
    if (!req.complete) {
      await body?.cancel().catch(() => undefined); // a body still locked by a reader cancels itself
      if (!continued) {
        // the client is waiting to be told to send the body: it never will, so the connection cannot be reused
        res.setHeader("Connection", "close");
      } else drainUnread(req, res);
    }
    bytesOut = await send(response, req, res, limits);
  } finally {
    sent?.(bytesOut);
    if (req.complete) stopGuard();
    else req.once("close", stopGuard);
  }
}

/**
 * Whether the request carries a body (RFC 9112, 6.3: without Transfer-Encoding or a non-zero
 * Content-Length it has none). A POST that opens an upload and a PUT that completes one
 * usually have none: they get no body stream, which request observation would otherwise wrap.
 */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  return req.headers["transfer-encoding"] !== undefined || (length !== undefined && Number(length) !== 0);
}

/**
 * An answer given before the request body was read (401, 413, 400): read and drop up to
 * DRAIN_LIMIT more bytes, so a client that writes its whole body before reading (Python's
 * http.client) gets to see the answer and the connection can serve the next request; past
 * the limit the connection is closed.
 */
function drainUnread(req: IncomingMessage, res: ServerResponse): void {
  let drained = 0;
  req.on("data", (chunk: Buffer) => {
    drained += chunk.byteLength;
    if (drained > DRAIN_LIMIT) req.socket.destroy();
  });
  req.resume();
  const declared = Number(req.headers["content-length"]);
  if (!(declared <= DRAIN_LIMIT)) res.setHeader("Connection", "close");
}

async function send(
  response: Response,
  req: IncomingMessage,
  res: ServerResponse,
  limits: ServerLimits,
): Promise<number> {
  // name, value, name, value... (Node takes the flat list as it is, no object in between)
  const headers: string[] = [];
  response.headers.forEach((value, name) => headers.push(name, value));
  res.writeHead(response.status, headers);
  if (!response.body || req.method === "HEAD") {
    if (response.body) await response.body.cancel();
    res.end();
    return 0;
  }
  // bytes in memory (a manifest) small enough that the socket takes them without backpressure: one write
  const bytes = takeBytes(response.body);
  if (bytes && bytes.byteLength <= res.writableHighWaterMark) {
    res.end(bytes);
    return bytes.byteLength;
  }
  // a storage download still unread: its Node stream goes straight to the socket
  const source = takeNodeSource(response.body);
  if (source) return pipeNodeStream(source, res, limits.idleTimeoutMs);
  return writeWebStream(response.body, res, limits.idleTimeoutMs);
}
