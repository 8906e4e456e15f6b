import { randomUUID } from "node:crypto";

export const REQUEST_ID_HEADER = "x-request-id";

/** What a proxy's id may look like: short, and nothing that could forge a log line. */
const ACCEPTABLE = /^[A-Za-z0-9._:@+=/-]{1,128}$/;

/**
 * The request's id: the trusted proxy's `X-Request-Id` (so one id follows a request through the
 * proxy's logs and ours), otherwise a new one. A client's own header is not believed: ids in
 * logs and webhook events must not be chosen by whoever sends the request.
 */
export function requestId(request: Request, trustProxy: boolean): string {
  const given = trustProxy ? request.headers.get(REQUEST_ID_HEADER) : null;
  return given && ACCEPTABLE.test(given) ? given : randomUUID();
}
