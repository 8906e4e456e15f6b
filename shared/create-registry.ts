import type { Config } from "./config.js";
import { createRegistryApp, type FetchHandler, type RequestObserver } from "./http/registry-app.js";
import { RegistryService } from "./registry/registry-service.js";
import { createAzureStorage } from "./storage/azure/azure-storage.js";

/**
 * Wires the registry from configuration: Azure storage -> service -> HTTP app.
 * `connectionString` overrides the configured one (the Node server passes its embedded Azurite's).
 */
export async function createRegistry(config: Config, observe?: RequestObserver, connectionString = config.connectionString): Promise<FetchHandler> {
  if (!connectionString) throw new Error("STOWAGE_STORAGE_CONNECTION_STRING is not set");
  const storage = await createAzureStorage({
    connectionString,
    container: config.container,
    tablePrefix: config.tablePrefix,
  });
  const registry = new RegistryService(storage, {
    blockSize: config.blockSize,
    concurrency: config.concurrency,
    redirect: config.blobRedirect,
    redirectTtlSeconds: config.redirectTtlSeconds,
    maxManifestBytes: config.maxManifestBytes,
    maxPageSize: config.maxPageSize,
    autoMount: config.autoMount,
    uploadTtlMs: config.uploadTtlMs,
  });
  const app = { chunks: { min: 1, max: config.chunkMaxBytes }, deleteEnabled: config.deleteEnabled };
  return createRegistryApp(registry, observe ? { ...app, observe } : app);
}
