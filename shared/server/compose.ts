import { createAuth, type AuthServices } from "../auth/create-auth.js";
import { isTokenPath } from "../auth/token-endpoint.js";
import type { Config } from "../config.js";
import { createRegistry } from "../create-registry.js";
import type { FetchHandler, RequestObserver } from "../http/registry-app.js";

/** One handler for one port: `/token` and `/token/jwks` go to the token server, the rest to the registry. */
export function withTokenEndpoint(token: FetchHandler, registry: FetchHandler): FetchHandler {
  return (request) => (isTokenPath(new URL(request.url).pathname) ? token(request) : registry(request));
}

/** The Node server's whole application: auth (with the admin bootstrap) and the registry behind it. */
export async function createServerApp(
  config: Config,
  options: { connectionString: string; observe?: RequestObserver },
): Promise<{ handle: FetchHandler; auth: AuthServices }> {
  const auth = await createAuth(config, options);
  const registry = await createRegistry(config, { ...options, authorizer: auth.authorizer });
  return { handle: withTokenEndpoint(auth.tokenEndpoint, registry), auth };
}
