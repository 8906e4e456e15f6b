import type { IncomingHttpHeaders } from "node:http";
import { createHttpHeaders, type HttpHeaders } from "@azure/core-rest-pipeline";

/** A pipeline response's headers from Node's parsed ones (a repeated header joined with ", "). */
export function responseHeaders(raw: IncomingHttpHeaders): HttpHeaders {
  const headers = createHttpHeaders();
  for (const [name, value] of Object.entries(raw)) {
    if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(", ") : value);
  }
  return headers;
}
