import { bootstrapMessage } from "../auth/admin-bootstrap.js";
import { ConfigError, loadConfig } from "../config.js";
import { createRegistryService } from "../create-registry.js";
import type { RegistryService } from "../registry/registry-service.js";
import type { AzuriteInstance } from "./azurite.js";
import { accessLogger } from "../adapters/access-log.js";
import { createServerApp } from "./compose.js";
import { azuriteLocation, startDataDirAzurite } from "./data-dir-azurite.js";
import { createNodeServer } from "./node-server.js";
import { createWebhooks, startWebhookPollers } from "../webhooks/create-webhooks.js";
import type { Poller } from "../webhooks/queue-poller.js";

/**
 * `npm start`: the registry as a plain Node HTTP server. With no storage connection string it
 * runs on an embedded Azurite keeping its data under STOWAGE_DATA_DIR.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  let azurite: AzuriteInstance | undefined;
  let connectionString = config.connectionString;
  if (!connectionString) {
    azurite = await startDataDirAzurite(config.dataDir);
    connectionString = azurite.connectionString;
    console.log(`storage: embedded Azurite (pid ${azurite.pid}), data in ${azuriteLocation(config.dataDir)}`);
  } else {
    console.log("storage: configured Azure Storage account");
  }
  const observe = accessLogger(process.env.STOWAGE_ACCESS_LOG === "true");
  const orStopAzurite = async (error: unknown) => {
    await azurite?.stop(); // do not leave the embedded Azurite behind
    throw error;
  };
  const { handle, auth } = await createServerApp(config, { connectionString, observe }).catch(orStopAzurite);
  console.log(`secrets: ${auth.secrets.description}`);
  const bootstrap = bootstrapMessage(auth.bootstrap, auth.secrets.description, true);
  if (bootstrap) console.log(bootstrap);
  // webhooks: the same delivery handlers as the Functions queue triggers, from in-process pollers
  let pollers: Poller | undefined;
  if (config.webhooks.deliver) {
    const log = (line: string) => console.log(line);
    const webhooks = await createWebhooks(config, connectionString, log).catch(orStopAzurite);
    pollers = startWebhookPollers(webhooks, config, log);
  }
  const gc = schedulePurge(await createRegistryService(config, connectionString).catch(orStopAzurite));
  const server = createNodeServer(handle);
  server.listen(config.port, config.host, () => {
    const address = server.address() as { port: number };
    console.log(`Stowage listening on http://${config.host}:${address.port}`);
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping`);
    clearInterval(gc);
    server.close();
    server.closeAllConnections();
    await pollers?.stop(); // deliveries in hand finish (or come back later from the queue)
    await azurite?.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

/** Hourly, what the Functions app's timer does: forget abandoned uploads and their bytes. */
function schedulePurge(registry: RegistryService): NodeJS.Timeout {
  const purge = () =>
    registry.uploads.purgeExpired().then(
      (purged) => purged.length > 0 && console.log(`garbage collection: ${purged.length} abandoned upload(s) purged`),
      (error: unknown) => console.error("garbage collection failed (will retry):", error),
    );
  return setInterval(purge, 3600_000).unref();
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
