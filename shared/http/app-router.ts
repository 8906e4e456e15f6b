import { isApiPath } from "./api/api-app.js";
import { noteRequest } from "../lib/request-scope.js";
import type { FetchHandler } from "./fetch-handler.js";
import { isOpsPath } from "./ops-app.js";
import { isTokenPath } from "./token/token-app.js";
import { isUiPath, UI_ASSET_PREFIX } from "./ui/ui-paths.js";

/** The HTTP apps one process serves, one per path family. */
export interface HttpApps {
  /** `/token` and `/token/jwks`: the token server. */
  token: FetchHandler;
  /** `/api/...`: Stowage's own JSON API (web UI, lifecycle). */
  api: FetchHandler;
  /** `/` and `/ui/...`: the web UI's page and assets (loaded on first use). */
  ui: FetchHandler;
  /** `/healthz`, `/readyz`, `/metrics`: the operator endpoints. */
  ops?: FetchHandler;
  /** Everything else: the registry API under `/v2/` (and its 404 for other paths). */
  registry: FetchHandler;
}

/** One handler for one port (and one Functions app): each path goes to the app that owns it. */
export function routeByPath(apps: HttpApps): FetchHandler {
  return (request, info) => {
    const path = new URL(request.url).pathname;
    if (isTokenPath(path)) {
      noteRequest({ route: path }); // fixed paths are their own templates
      return apps.token(request, info);
    }
    if (apps.ops && isOpsPath(path)) {
      noteRequest({ route: path });
      return apps.ops(request, info);
    }
    if (isApiPath(path)) return apps.api(request, info);
    if (isUiPath(path)) {
      noteRequest({ route: path === "/" ? "/" : `${UI_ASSET_PREFIX}{asset}` }); // asset names are content hashes
      return apps.ui(request, info);
    }
    return apps.registry(request, info);
  };
}
