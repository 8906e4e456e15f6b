import { bootstrapMessage } from "../auth/admin-bootstrap.js";
import { buildApp, type App } from "../app/build-app.js";
import { loadConfig } from "../app/config.js";

/**
 * The application every function of the Functions app shares (they run in one worker):
 * built once per cold start, on first use. A failed start (storage unreachable) is not
 * kept, so the next invocation tries again.
 */
let pending: Promise<App> | undefined;

export function functionsApp(): Promise<App> {
  pending ??= start().catch((error: unknown) => {
    pending = undefined;
    throw error;
  });
  return pending;
}

async function start(): Promise<App> {
  const config = loadConfig();
  // the Functions host keeps its own request log; ours adds only server errors with their cause
  // (and the audit trail), through the console the host collects
  const app = await buildApp(config, { accessLog: false });
  const bootstrap = await app.prepare();
  // Functions logs are kept: never print a generated password there, only where it is stored
  const message = bootstrapMessage(bootstrap, app.auth.secrets.description, false);
  if (message) console.log(message);
  return app;
}
