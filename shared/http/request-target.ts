import { RegistryError } from "../registry/errors.js";
import { HttpError } from "./http-error.js";

/** A host name, IPv4 or bracketed IPv6 address, with an optional port: nothing that could change the path. */
const HOST = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

/**
 * The absolute URL a request is for, from its request target and Host header as received.
 * The path comes from the target alone (a Host such as `a/v2/x/tags/list?` must not become
 * part of it), and a path the URL parser would rewrite (`/../`, `%2e%2e`, `\`) is refused
 * before it is: under `/v2/` those segments can only be a bad repository name.
 */
export function requestUrl(target: string, host: string | undefined, scheme: "http" | "https"): string {
  if (host === undefined || !HOST.test(host)) throw new HttpError(400, "UNSUPPORTED", "invalid Host header");
  let pathAndQuery = target;
  if (/^https?:\/\//i.test(target)) {
    // absolute-form (proxies send it): the path is what follows the authority
    const slash = target.indexOf("/", target.indexOf("//") + 2);
    pathAndQuery = slash === -1 ? "/" : target.slice(slash);
  }
  if (!pathAndQuery.startsWith("/")) throw new HttpError(400, "UNSUPPORTED", "invalid request target");
  const path = pathAndQuery.split("?", 1)[0] as string;
  if (rewritable(path)) {
    if (path.startsWith("/v2/")) throw new RegistryError("NAME_INVALID", "invalid repository name");
    throw new HttpError(404, "UNSUPPORTED", "no such endpoint");
  }
  const url = `${scheme}://${host}${pathAndQuery}`;
  if (new URL(url).pathname !== path) throw new HttpError(400, "UNSUPPORTED", "invalid request target");
  return url;
}

/** Dot segments (plain or percent-encoded) and backslashes, which URL parsing would resolve away. */
function rewritable(path: string): boolean {
  if (path.includes("\\")) return true;
  return path.split("/").some((segment) => /^(?:\.|%2e){1,2}$/i.test(segment));
}
