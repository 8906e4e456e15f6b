import type { LogWriter } from "../lib/log-writer.js";
import type { RequestEndObserver } from "./observed-requests.js";
import { isProbePath } from "./ops-app.js";

export interface AccessLogOptions {
  /** Every request (otherwise only server errors, which are always logged with their cause). */
  all: boolean;
  /** Also the probes (`/healthz`, `/readyz`), which orchestrators call every few seconds. */
  probes: boolean;
}

/**
 * One structured line per answered request: request id, method, route template, status,
 * duration, bytes both ways, client address, principal, user agent. Never the path's names
 * (the route template stands for it), the query string (it may carry digests of private
 * content), tokens, passwords or any other header value.
 */
export function accessLog(write: LogWriter, options: AccessLogOptions): RequestEndObserver {
  return (record) => {
    const serverError = record.status >= 500;
    if (!serverError && (!options.all || (!options.probes && isProbePath(record.route)))) return;
    write({
      level: serverError ? "error" : "info",
      msg: "request",
      requestId: record.id,
      method: record.method,
      route: record.route,
      status: record.status,
      durationMs: Math.round(record.seconds * 10_000) / 10,
      bytesIn: record.bytesIn,
      bytesOut: record.bytesOut,
      clientAddress: record.clientAddress,
      principal: record.principal,
      userAgent: record.userAgent?.replace(/[^\x20-\x7e]/g, "?").slice(0, 256),
      ...(serverError && record.failure !== undefined ? { error: record.failure } : {}),
    });
  };
}
