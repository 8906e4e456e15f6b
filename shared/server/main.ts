import type { Server as TlsServer } from "node:tls";
import { gracefulShutdown } from "../adapters/graceful-shutdown.js";
import { createNodeServer } from "../adapters/node-http.js";
import { startBackgroundJobs } from "../app/background-jobs.js";
import { buildApp } from "../app/build-app.js";
import { ConfigError, loadConfig } from "../app/config.js";
import { bootstrapMessage } from "../auth/admin-bootstrap.js";
import { accessLogger } from "../http/access-log.js";
import type { AzuriteInstance } from "./azurite.js";
import { azuriteLocation, startDataDirAzurite } from "./data-dir-azurite.js";
import { connectionsWithinFileLimit } from "./open-file-limit.js";
import { loadTlsCredentials, type TlsCredentials } from "./tls-credentials.js";
import { reloadTlsOnChange } from "./tls-reloader.js";

/**
 * `npm start`: the registry as a plain Node HTTP server. With no storage connection string it
 * runs on an embedded Azurite keeping its data under STOWAGE_DATA_DIR.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  let azurite: AzuriteInstance | undefined;
  if (!config.connectionString) {
    azurite = await startDataDirAzurite(config.dataDir);
    console.log(`storage: embedded Azurite (pid ${azurite.pid}), data in ${azuriteLocation(config.dataDir)}`);
  } else {
    console.log("storage: configured Azure Storage account");
  }
  const log = (line: string) => console.log(line);
  const observe = accessLogger(process.env.STOWAGE_ACCESS_LOG === "true");
  let app;
  let bootstrap;
  let tls: TlsCredentials | undefined;
  try {
    app = await buildApp(config, { observe, log, ...(azurite ? { connectionString: azurite.connectionString } : {}) });
    bootstrap = await app.prepare();
    // after the app: a certificate kept in Key Vault is read through the app's secret store
    if (config.tls) tls = await loadTlsCredentials(config.tls, app.auth.secrets);
  } catch (error) {
    await azurite?.stop(); // do not leave the embedded Azurite behind
    throw error;
  }
  console.log(`secrets: ${app.auth.secrets.description}`);
  const message = bootstrapMessage(bootstrap, app.auth.secrets.description, true);
  if (message) console.log(message);
  const jobs = startBackgroundJobs(app, log);
  const maxConnections = connectionsWithinFileLimit(config.http.maxConnections);
  const server = createNodeServer(app.handle, { ...config.http, maxConnections }, tls?.options);
  const shutdown = gracefulShutdown(server);
  if (tls) console.log(`TLS: certificate from ${tls.description}`);
  const stopReloading =
    config.tls && tls
      ? reloadTlsOnChange(server as TlsServer, config.tls, tls, log, app.auth.secrets)
      : () => undefined;
  server.listen(config.port, config.host, () => {
    const address = server.address() as { port: number };
    console.log(`Stowage listening on ${tls ? "https" : "http"}://${config.host}:${address.port}`);
  });

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal}: stopping (requests in progress get ${config.shutdownGraceMs / 1000} s to finish)`);
    stopReloading();
    const cut = await shutdown.shutdown(config.shutdownGraceMs);
    if (cut > 0) console.log(`${cut} request(s) still in progress were cut off`);
    await jobs.stop(); // deliveries in hand finish (or come back later from the queue)
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
