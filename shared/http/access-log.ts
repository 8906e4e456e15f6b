import type { RequestObserver } from "./fetch-handler.js";

/**
 * One line per request: method, path, status. Query strings are left out (they may carry
 * digests of private content or, later, tokens) and headers are never logged.
 * Server errors are always logged with their cause; the rest only when `verbose`.
 */
export function accessLogger(verbose: boolean): RequestObserver {
  return (request, response, error) => {
    const path = new URL(request.url).pathname;
    if (response.status >= 500) console.error(`${request.method} ${path} ${response.status}`, error);
    else if (verbose) console.log(`${request.method} ${path} ${response.status}`);
  };
}
