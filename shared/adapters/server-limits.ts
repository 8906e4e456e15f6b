import type { IncomingMessage } from "node:http";
import type { Server } from "node:net";
import type { Socket } from "node:net";
import type { ServerLimits } from "../app/config.js";

/** Refuses a connection beyond the per-address limit as soon as it is accepted. */
export function limitConnectionsPerAddress(server: Server, limit: number): void {
  const open = new Map<string, number>();
  server.on("connection", (socket: Socket) => {
    const address = socket.remoteAddress ?? "";
    const count = (open.get(address) ?? 0) + 1;
    if (count > limit) {
      socket.destroy();
      return;
    }
    open.set(address, count);
    socket.once("close", () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left === 0) open.delete(address);
      else open.set(address, left);
    });
  });
}

/**
 * Holds a request body to the minimum rate: each second the server wants bytes (the request
 * is not paused by backpressure) counts towards a window; a window that ends with fewer than
 * `minBodyBytesPerSecond` x its length received closes the connection. Returns the stop function.
 */
export function guardBodyRate(req: IncomingMessage, limits: ServerLimits): () => void {
  // without Content-Length or Transfer-Encoding a request has no body (RFC 9112, 6.3): nothing to time
  const declared = req.headers["content-length"] !== undefined || req.headers["transfer-encoding"] !== undefined;
  if (req.complete || !declared) return () => undefined;
  const windowSeconds = Math.max(1, Math.round(limits.idleTimeoutMs / 1000));
  let received = 0;
  let waited = 0;
  const count = (chunk: Buffer) => (received += chunk.byteLength);
  req.on("data", count);
  const timer = setInterval(() => {
    if (req.complete) return stop();
    if (req.isPaused()) return; // the server is not reading: not the client's fault
    waited += 1;
    if (waited < windowSeconds) return;
    if (received < limits.minBodyBytesPerSecond * windowSeconds) req.socket.destroy();
    waited = 0;
    received = 0;
  }, 1000).unref();
  const stop = () => {
    clearInterval(timer);
    req.off("data", count);
  };
  return stop;
}
