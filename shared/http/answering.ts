import { errorResponse } from "./error-response.js";
import type { FetchHandler, RequestObserver } from "./registry-app.js";

/**
 * Makes a fetch-style handler out of a route function: any failure becomes the spec's error
 * JSON (never an exception escaping to the adapter), and the observer sees every answer.
 */
export function answering(route: (request: Request) => Promise<Response>, observe?: RequestObserver): FetchHandler {
  return async (request) => {
    let response: Response;
    let failure: unknown;
    try {
      response = await route(request);
    } catch (error) {
      failure = error;
      response = errorResponse(error, request.method);
    }
    observe?.(request, response, failure);
    return response;
  };
}
