import { bootstrapMessage } from "../auth/admin-bootstrap.js";
import { buildApp, type App } from "../app/build-app.js";
import { loadConfig } from "../app/config.js";

/** One start of the Functions app: configuration, the app, and a deployment's first bootstrap. */
export async function startFunctionsApp(): Promise<App> {
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
