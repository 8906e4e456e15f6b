import { connect, type Socket } from "node:net";
import { connect as connectTls } from "node:tls";

/** A response as read off a raw socket. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
  /** Whether the server sent `100 Continue` before the final answer. */
  continued: boolean;
}

export interface RawOptions {
  /** Bind the client socket to this loopback address (127.x.y.z), to look like another client. */
  localAddress?: string;
  /** Written after the head, all of it before anything is read (as Python's http.client does). */
  body?: Buffer;
  timeoutMs?: number;
  /** Speak TLS, trusting this root (PEM); the same bytes then go through the TLS layer. */
  tls?: RawTls;
}

export interface RawTls {
  ca: string;
}

/**
 * Opens a connection from `localAddress` (any 127.x.y.z) to the loopback server. With `tls`
 * it resolves once TCP is connected, before the handshake (as a plain socket does): writes
 * wait for the handshake, and a server that refuses the connection outright shows as a close.
 */
export function open(port: number, localAddress = "127.0.0.1", tls?: RawTls): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1", localAddress }, () => {
      if (!tls) return resolve(socket);
      socket.off("error", reject);
      const secure = connectTls({ socket, ca: tls.ca, servername: "localhost" });
      secure.on("error", () => undefined); // a refusal shows as a close, as on a plain socket
      resolve(secure);
    });
    socket.once("error", reject);
  });
}

/**
 * Sends exactly the bytes given (a request head, then a body) and reads one response, the
 * way a minimal or hostile client would: no header fixing, no Expect handling.
 */
export async function rawRequest(port: number, head: string, options: RawOptions = {}): Promise<RawResponse> {
  const socket = await open(port, options.localAddress, options.tls);
  socket.on("error", () => undefined); // a reset after the answer is the server's right
  const received: Buffer[] = [];
  const response = new Promise<RawResponse>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no answer within ${options.timeoutMs ?? 10_000} ms`)),
      options.timeoutMs ?? 10_000,
    );
    const tryParse = (final: boolean) => {
      const text = Buffer.concat(received).toString("latin1");
      const parsed = parseResponse(text);
      if (parsed || final) {
        clearTimeout(timer);
        if (parsed) resolve(parsed);
        else reject(new Error(`connection closed without a complete answer: ${JSON.stringify(text.slice(0, 200))}`));
        socket.destroy();
      }
    };
    socket.on("data", (chunk: Buffer) => {
      received.push(chunk);
      tryParse(false);
    });
    socket.on("close", () => tryParse(true));
  });
  socket.write(head);
  if (options.body) socket.write(options.body);
  return response;
}

function parseResponse(text: string): RawResponse | undefined {
  let rest = text;
  let continued = false;
  const interim = /^HTTP\/1\.1 100 [^\r\n]*\r\n\r\n/.exec(rest);
  if (interim) {
    continued = true;
    rest = rest.slice(interim[0].length);
  }
  const end = rest.indexOf("\r\n\r\n");
  if (end === -1) return undefined;
  const [statusLine, ...lines] = rest.slice(0, end).split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const status = Number(statusLine?.split(" ")[1]);
  const raw = rest.slice(end + 4);
  const body = headers["transfer-encoding"] === "chunked" ? dechunk(raw) : raw;
  const length = Number(headers["content-length"] ?? 0);
  if (body === undefined || body.length < length) return undefined;
  return { status, headers, body: headers["content-length"] ? body.slice(0, length) : body, continued };
}

/** The body of a chunked message, or undefined until its last chunk has arrived. */
function dechunk(raw: string): string | undefined {
  let body = "";
  let rest = raw;
  for (;;) {
    const lineEnd = rest.indexOf("\r\n");
    if (lineEnd === -1) return undefined;
    const size = parseInt(rest.slice(0, lineEnd), 16);
    if (size === 0) return body;
    if (rest.length < lineEnd + 2 + size + 2) return undefined;
    body += rest.slice(lineEnd + 2, lineEnd + 2 + size);
    rest = rest.slice(lineEnd + 2 + size + 2);
  }
}

/**
 * Writes `data` one byte per `intervalMs` (a slowloris client) and resolves with how long the
 * server took to close the connection.
 */
export async function trickle(socket: Socket, data: string, intervalMs: number): Promise<number> {
  const started = Date.now();
  return new Promise((resolve) => {
    let i = 0;
    const timer = setInterval(() => {
      if (i < data.length && socket.writable) socket.write(data[i++] as string);
    }, intervalMs);
    socket.on("error", () => undefined);
    socket.once("close", () => {
      clearInterval(timer);
      resolve(Date.now() - started);
    });
  });
}
