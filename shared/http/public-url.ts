/**
 * The registry's own absolute URL as clients see it, for the challenge's `realm`: clients
 * fetch tokens from exactly that URL, so it must be absolute and reachable by them.
 */
export interface PublicUrlOptions {
  /** STOWAGE_PUBLIC_URL: used as is when set. */
  publicUrl: string | undefined;
  /** Believe X-Forwarded-Proto / X-Forwarded-Host (only behind a proxy that sets them). */
  trustProxy: boolean;
}

/** Base URL without a trailing slash, e.g. `https://registry.example.com`. */
export function publicBaseUrl(request: Request, options: PublicUrlOptions): string {
  if (options.publicUrl) return options.publicUrl.replace(/\/+$/, "");
  // the adapters build the request URL from the Host header; URL parsing has normalized it
  const url = new URL(request.url);
  let protocol = url.protocol.slice(0, -1);
  let host = url.host;
  if (options.trustProxy) {
    const proto = firstValue(request.headers.get("x-forwarded-proto"))?.toLowerCase();
    if (proto === "http" || proto === "https") protocol = proto;
    const forwardedHost = firstValue(request.headers.get("x-forwarded-host"));
    if (forwardedHost) host = parseHost(forwardedHost) ?? host;
  }
  return `${protocol}://${host}`;
}

export function tokenUrl(request: Request, options: PublicUrlOptions): string {
  return `${publicBaseUrl(request, options)}/token`;
}

function firstValue(header: string | null): string | undefined {
  return header?.split(",")[0]?.trim() || undefined;
}

/** A plain host[:port] (name, IPv4 or bracketed IPv6), or undefined: nothing that could break out of the challenge. */
function parseHost(value: string): string | undefined {
  return /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/.test(value) ? value.toLowerCase() : undefined;
}
