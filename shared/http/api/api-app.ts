import { noteRequest } from "../../lib/request-scope.js";
import { RegistryError } from "../../registry/errors.js";
import { assertName } from "../../registry/references.js";
import { answering } from "../answering.js";
import type { Authorizer } from "../authorizer.js";
import type { FetchHandler, RequestObserver } from "../fetch-handler.js";
import { HttpError, methodNotAllowed } from "../http-error.js";
import { routeTemplate } from "../route-template.js";
import type { ApiRoute } from "./api-route.js";

export const API_PREFIX = "/api/";

/** Whether a path belongs to the JSON API. */
export function isApiPath(path: string): boolean {
  return path.startsWith(API_PREFIX);
}

export interface ApiAppOptions {
  /** The same check as the registry's: bearer tokens from the token endpoint. */
  authorizer: Authorizer;
  observe?: RequestObserver;
}

/**
 * Stowage's own JSON API, assembled from the route lists of each feature (lifecycle, web UI).
 * Same rules as the registry: names validated before storage, access checked before any
 * handler, every failure the registry's error JSON.
 */
export function createApiApp(routes: ApiRoute[], options: ApiAppOptions): FetchHandler {
  return answering(async (request, info) => {
    const url = new URL(request.url);
    const found = match(routes, url.pathname);
    if (!found) throw new HttpError(404, "UNSUPPORTED", "no such endpoint", {}, { path: url.pathname });
    noteRequest({ route: routeTemplate(found.route.pattern) });
    const handler = found.route.methods[request.method];
    if (!handler) throw methodNotAllowed(request.method, Object.keys(found.route.methods));
    if (found.params.name !== undefined) assertName(found.params.name);
    const grant = await options.authorizer.authorize(request, found.route.access(request.method, found.params), info);
    noteRequest({ principal: grant.subject });
    return handler({ request, url, params: found.params, info, grant });
  }, options.observe);
}

function match(routes: ApiRoute[], path: string): { route: ApiRoute; params: Record<string, string> } | undefined {
  for (const route of routes) {
    const found = route.pattern.exec(path);
    if (!found) continue;
    const params: Record<string, string> = {};
    for (const [key, value] of Object.entries(found.groups ?? {})) {
      try {
        params[key] = decodeURIComponent(value);
      } catch {
        throw new RegistryError(key === "name" ? "NAME_INVALID" : "UNSUPPORTED", `malformed ${key}`);
      }
    }
    return { route, params };
  }
  return undefined;
}
