import { bootstrapMessage } from "../auth/admin-bootstrap.js";
import { createAuth } from "../auth/create-auth.js";
import { loadConfig } from "../config.js";
import { createRegistry } from "../create-registry.js";
import type { FetchHandler } from "../http/registry-app.js";
import { accessLogger } from "./access-log.js";
import { lazy } from "./functions-http.js";

/**
 * The core shared by the Functions app's HTTP triggers (functions/registry.ts and
 * functions/token.ts run in one worker): built once per cold start, on first use.
 */
export const functionsApp = lazy(async (): Promise<{ registry: FetchHandler; token: FetchHandler }> => {
  const config = loadConfig();
  const connectionString = config.connectionString;
  if (!connectionString) throw new Error("STOWAGE_STORAGE_CONNECTION_STRING is not set");
  // the Functions host keeps its own request log; ours adds only server errors with their cause
  const observe = accessLogger(false);
  const auth = await createAuth(config, { connectionString, observe });
  // Functions logs are kept: never print a generated password there, only where it is stored
  const bootstrap = bootstrapMessage(auth.bootstrap, auth.secrets.description, false);
  if (bootstrap) console.log(bootstrap);
  const registry = await createRegistry(config, { connectionString, observe, authorizer: auth.authorizer });
  return { registry, token: auth.tokenEndpoint };
});
