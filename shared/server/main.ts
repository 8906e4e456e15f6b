import type { Server as TlsServer } from "node:tls";
import { gracefulShutdown } from "../adapters/graceful-shutdown.js";
import { createNodeServer } from "../adapters/node-http.js";
import { startBackgroundJobs, type BackgroundJobs } from "../app/background-jobs.js";
import { buildApp, type App } from "../app/build-app.js";
import { ConfigError, loadConfig } from "../app/config.js";
import { bootstrapMessage } from "../auth/admin-bootstrap.js";
import type { AzuriteInstance } from "./azurite.js";
import { azuriteLocation, startDataDirAzurite } from "./data-dir-azurite.js";
import { connectionsWithinFileLimit } from "./open-file-limit.js";
import { loadTlsCredentials } from "./tls-credentials.js";
import { reloadTlsOnChange } from "./tls-reloader.js";

/**
 * `npm start`: the registry as a plain Node HTTP server. With no storage connection string it
 * runs on an embedded Azurite keeping its data under STOWAGE_DATA_DIR.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const log = (line: string) => console.log(line);
  let azurite: AzuriteInstance | undefined;
  let restored: App | undefined; // eslint-disable-line prefer-const -- assigned once the app exists
  if (!config.connectionString && !config.storageAccount) {
    azurite = await startDataDirAzurite(config.dataDir, {
      log,
      // containers, tables and queues made in Azurite's last unsaved seconds are made again
      onRestart: async () => void (await restored?.storage.ensureCreated()),
      onGiveUp: (reason) => void stop("storage lost", `${reason}: exiting so a supervisor restarts the server`),
    });
    stopAzurite = () => (azurite as AzuriteInstance).stop();
    console.log(`storage: embedded Azurite (pid ${azurite.pid}), data in ${azuriteLocation(config.dataDir)}`);
    console.log(EMBEDDED_STORAGE_WARNING);
  } else {
    console.log(`storage: Azure Storage account ${config.storageAccount?.name ?? "(connection string)"}`);
  }
  const app = await buildApp(config, {
    accessLog: config.observability.accessLog,
    log,
    ...(azurite ? { connectionString: azurite.connectionString } : {}),
  });
  restored = app;
  const bootstrap = await app.prepare();
  // after the app: a certificate kept in Key Vault is read through the app's secret store
  const tls = config.tls ? await loadTlsCredentials(config.tls, app.auth.secrets) : undefined;
  console.log(`secrets: ${app.auth.secrets.description}`);
  const message = bootstrapMessage(bootstrap, app.auth.secrets.description, true);
  if (message) console.log(message);
  const maxConnections = connectionsWithinFileLimit(config.http.maxConnections);
  const server = createNodeServer(app.handle, { ...config.http, maxConnections }, tls?.options);
  const shutdown = gracefulShutdown(server);
  if (tls) console.log(`TLS: certificate from ${tls.description}`);
  const stopReloading =
    config.tls && tls
      ? reloadTlsOnChange(server as TlsServer, config.tls, tls, log, app.auth.secrets)
      : () => undefined;
  let jobs: BackgroundJobs | undefined;
  let jobsTimer: NodeJS.Timeout | undefined;
  server.listen(config.port, config.host, () => {
    const address = server.address() as { port: number };
    console.log(`Stowage listening on ${tls ? "https" : "http"}://${config.host}:${address.port}`);
    // webhook delivery and GC a moment after requests are taken: the queue SDK's loading and
    // first calls do not compete with the first requests of a new instance (events wait in the queue)
    jobsTimer = setTimeout(() => (jobs = startBackgroundJobs(app, log)), BACKGROUND_JOBS_DELAY_MS);
  });

  stopApp = async () => {
    clearTimeout(jobsTimer); // a stop within the first second: the jobs never start
    console.log(`requests in progress get ${config.shutdownGraceMs / 1000} s to finish`);
    stopReloading();
    const cut = await shutdown.shutdown(config.shutdownGraceMs);
    if (cut > 0) console.log(`${cut} request(s) still in progress were cut off`);
    await jobs?.stop(); // deliveries in hand finish (or come back later from the queue)
  };
}

const BACKGROUND_JOBS_DELAY_MS = 1000;

let stopAzurite: (() => Promise<void>) | undefined;
let stopApp: (() => Promise<void>) | undefined;
let stopping = false;

/**
 * Every way out goes through here, so the embedded Azurite is always stopped with a signal
 * and writes its data back (a `kill -9` of this process cannot be caught: the next start then
 * stops the orphaned Azurite the same way).
 */
async function stop(why: string, detail?: unknown): Promise<void> {
  if (stopping) return;
  stopping = true;
  const failed = detail !== undefined;
  if (failed) console.error(`${why}:`, detail instanceof ConfigError ? detail.message : detail);
  else console.log(`${why}: stopping`);
  await stopApp?.().catch(() => undefined);
  await stopAzurite?.().catch(() => undefined);
  process.exit(failed ? 1 : 0);
}

const EMBEDDED_STORAGE_WARNING =
  "note: the embedded Azurite is for development and single-node use. It writes its data to disk every " +
  "5 s, so a crash of the machine or of Azurite loses what was acknowledged in the last seconds. " +
  "Production uses an Azure or Azure Stack Hub storage account (STOWAGE_STORAGE_CONNECTION_STRING).";

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => void stop(signal));
process.on("uncaughtException", (error) => void stop("uncaught exception", error));
process.on("unhandledRejection", (error) => void stop("unhandled rejection", error));

main().catch((error: unknown) => void stop("start-up failed", error));
