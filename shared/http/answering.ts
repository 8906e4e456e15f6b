import { errorResponse } from "./error-response.js";
import type { FetchHandler, RequestObserver } from "./fetch-handler.js";

/**
 * Makes a fetch-style handler out of a route function: any failure becomes an error response
 * (never an exception escaping to the adapter), and the observer sees every answer. The
 * registry writes the spec's error JSON; the token endpoint passes its own writer.
 */
export function answering(
  route: FetchHandler,
  observe?: RequestObserver,
  writeError: (error: unknown, method: string) => Response = errorResponse,
): FetchHandler {
  return async (request, info) => {
    let response: Response;
    let failure: unknown;
    try {
      response = await route(request, info);
    } catch (error) {
      failure = error;
      response = writeError(error, request.method);
    }
    observe?.(request, response, failure);
    return response;
  };
}
