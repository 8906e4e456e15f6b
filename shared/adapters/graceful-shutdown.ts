import type { IncomingMessage, ServerResponse } from "node:http";
import type { NodeServer } from "./node-http.js";

/** Stops a server the way an orchestrator expects on SIGTERM. */
export interface GracefulShutdown {
  /**
   * Stops accepting connections, closes idle keep-alive ones, lets requests in progress (an
   * upload, a download) finish for up to `graceMs`, then cuts whatever is left. Resolves with
   * the number of requests that were cut.
   */
  shutdown(graceMs: number): Promise<number>;
}

/**
 * Counts requests in progress so shutdown can wait for exactly them: a client pushing a layer
 * when the pod is stopped gets its answer instead of a reset (and a retry of the whole layer).
 */
export function gracefulShutdown(server: NodeServer): GracefulShutdown {
  const inFlight = new Set<ServerResponse>();
  let draining = false;
  let drained: (() => void) | undefined;
  const track = (_req: IncomingMessage, res: ServerResponse) => {
    // a request that arrives on a kept-alive connection while draining is served, then the connection closes
    if (draining) res.shouldKeepAlive = false;
    inFlight.add(res);
    res.once("close", () => {
      inFlight.delete(res);
      if (!draining) return;
      server.closeIdleConnections(); // the connection that just finished, if it stayed open
      if (inFlight.size === 0) drained?.();
    });
  };
  // both run before the adapter's own listeners see the request
  server.prependListener("request", track);
  server.prependListener("checkContinue", track);

  return {
    async shutdown(graceMs) {
      draining = true;
      server.close(); // no new connections; Node also closes the idle ones
      server.closeIdleConnections();
      if (inFlight.size > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, graceMs);
          drained = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      const cut = inFlight.size;
      server.closeAllConnections();
      return cut;
    },
  };
}
