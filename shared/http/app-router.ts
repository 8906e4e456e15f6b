import { isApiPath } from "./api/api-app.js";
import type { FetchHandler } from "./fetch-handler.js";
import { isTokenPath } from "./token/token-app.js";
import { isUiPath } from "./ui/ui-paths.js";

/** The HTTP apps one process serves, one per path family. */
export interface HttpApps {
  /** `/token` and `/token/jwks`: the token server. */
  token: FetchHandler;
  /** `/api/...`: Stowage's own JSON API (web UI, lifecycle). */
  api: FetchHandler;
  /** `/` and `/ui/...`: the web UI's page and assets (loaded on first use). */
  ui: FetchHandler;
  /** Everything else: the registry API under `/v2/` (and its 404 for other paths). */
  registry: FetchHandler;
}

/** One handler for one port (and one Functions app): each path goes to the app that owns it. */
export function routeByPath(apps: HttpApps): FetchHandler {
  return (request, info) => {
    const path = new URL(request.url).pathname;
    if (isTokenPath(path)) return apps.token(request, info);
    if (isApiPath(path)) return apps.api(request, info);
    if (isUiPath(path)) return apps.ui(request, info);
    return apps.registry(request, info);
  };
}
