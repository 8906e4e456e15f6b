/**
 * The address a request came from. A fetch Request has no such field, so each adapter records
 * it here when it builds the Request (the socket's peer on the Node server, the front end's
 * X-Forwarded-For on Azure Functions); it cannot be forged by a header unless a proxy is
 * trusted. Used to throttle failed logins per address.
 */
const addresses = new WeakMap<Request, string>();

export function recordClientAddress(request: Request, address: string | undefined): Request {
  if (address) addresses.set(request, normalizeAddress(address));
  return request;
}

/**
 * The client's address. Behind a trusted proxy it is the last X-Forwarded-For entry (the one
 * the proxy itself appended; earlier entries are whatever the client claimed).
 */
export function clientAddress(request: Request, trustProxy: boolean): string | undefined {
  if (trustProxy) {
    const forwarded = lastForwardedFor(request);
    if (forwarded) return forwarded;
  }
  return addresses.get(request);
}

export function lastForwardedFor(request: Request): string | undefined {
  const entries = (request.headers.get("x-forwarded-for") ?? "").split(",").map((e) => e.trim());
  const last = entries[entries.length - 1];
  return last ? normalizeAddress(last) : undefined;
}

/** `1.2.3.4:5678` -> `1.2.3.4`, `[::1]:80` -> `::1`, `::ffff:1.2.3.4` -> `1.2.3.4`. */
function normalizeAddress(address: string): string {
  let host = address;
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(host);
  if (bracketed) host = bracketed[1] as string;
  else if (/^[^:]+:\d+$/.test(host)) host = host.slice(0, host.lastIndexOf(":"));
  return host.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, "$1").toLowerCase();
}
