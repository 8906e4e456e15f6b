import type { RequestInfo } from "./fetch-handler.js";

/**
 * The address a request came from: what the adapter saw (the socket's peer on the Node
 * server, the front end's X-Forwarded-For on Azure Functions), which a header cannot forge
 * unless a proxy is trusted. Behind a trusted proxy it is the last X-Forwarded-For entry (the
 * one the proxy itself appended; earlier entries are whatever the client claimed).
 */
export function clientAddress(request: Request, info: RequestInfo, trustProxy: boolean): string | undefined {
  if (trustProxy) {
    const forwarded = lastForwardedFor(request.headers);
    if (forwarded) return forwarded;
  }
  return info.clientAddress === undefined ? undefined : normalizeAddress(info.clientAddress);
}

export function lastForwardedFor(headers: Headers): string | undefined {
  const entries = (headers.get("x-forwarded-for") ?? "").split(",").map((e) => e.trim());
  const last = entries[entries.length - 1];
  return last ? normalizeAddress(last) : undefined;
}

/** `1.2.3.4:5678` -> `1.2.3.4`, `[::1]:80` -> `::1`, `::ffff:1.2.3.4` -> `1.2.3.4`. */
export function normalizeAddress(address: string): string {
  let host = address;
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(host);
  if (bracketed) host = bracketed[1] as string;
  else if (/^[^:]+:\d+$/.test(host)) host = host.slice(0, host.lastIndexOf(":"));
  return host.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, "$1").toLowerCase();
}
