import { join, resolve } from "node:path";
import { ConfigError, loadConfig } from "../config.js";
import { createRegistry } from "../create-registry.js";
import { startAzurite, type AzuriteInstance } from "./azurite.js";
import { accessLogger } from "../adapters/access-log.js";
import { createNodeServer } from "./node-server.js";

/**
 * `npm start`: the registry as a plain Node HTTP server. With no storage connection string it
 * runs on an embedded Azurite keeping its data under STOWAGE_DATA_DIR.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  let azurite: AzuriteInstance | undefined;
  let connectionString = config.connectionString;
  if (!connectionString) {
    const location = join(resolve(config.dataDir), "azurite");
    azurite = await startAzurite({ location });
    connectionString = azurite.connectionString;
    console.log(`storage: embedded Azurite (pid ${azurite.pid}), data in ${location}`);
  } else {
    console.log("storage: configured Azure Storage account");
  }
  const handle = await createRegistry(config, accessLogger(process.env.STOWAGE_ACCESS_LOG === "true"), connectionString);
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
    server.close();
    server.closeAllConnections();
    await azurite?.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
