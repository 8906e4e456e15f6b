import type { FetchHandler } from "./fetch-handler.js";

/**
 * A handler built on its first request (its module imported then): optional parts such as the
 * web UI cost the registry's cold start nothing. A failed build is retried by the next request.
 */
export function lazyHandler(load: () => Promise<FetchHandler>): FetchHandler {
  let pending: Promise<FetchHandler> | undefined;
  return async (request, info) => {
    pending ??= load().catch((error: unknown) => {
      pending = undefined;
      throw error;
    });
    return (await pending)(request, info);
  };
}
