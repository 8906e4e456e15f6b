import { createAuth } from "./auth/create-auth.js";
import type { Config } from "./config.js";
import type { Authorizer } from "./http/authorizer.js";
import { createRegistryApp, type FetchHandler, type RequestObserver } from "./http/registry-app.js";
import { RegistryService } from "./registry/registry-service.js";
import type { EventSink, RegistryEvent } from "./events/registry-event.js";
import { JsonQueue } from "./storage/azure/json-queue.js";
import { createAzureStorage } from "./storage/azure/azure-storage.js";

export interface RegistryOptions {
  /** Observes every answered request (access log). */
  observe?: RequestObserver;
  /** Overrides the configured connection (the Node server passes its embedded Azurite's). */
  connectionString?: string;
  /**
   * Who may do what. Omitted: Docker token auth built from the configuration (createAuth),
   * so a registry is never open by accident; pass `openAccess` only where that is meant
   * (the protocol tests).
   */
  authorizer?: Authorizer;
}

/** Wires the registry from configuration: Azure storage -> service -> HTTP app, behind auth. */
export async function createRegistry(config: Config, options: RegistryOptions = {}): Promise<FetchHandler> {
  const connectionString = options.connectionString ?? config.connectionString;
  if (!connectionString) throw new Error("STOWAGE_STORAGE_CONNECTION_STRING is not set");
  const authorizer = options.authorizer ?? (await createAuth(config, { connectionString })).authorizer;
  const registry = await createRegistryService(config, connectionString);
  const app = { chunks: { min: 1, max: config.chunkMaxBytes }, deleteEnabled: config.deleteEnabled, authorizer };
  const events =
    config.events.actions.length === 0
      ? {}
      : {
          events: {
            sink: eventQueue(connectionString, config.events.queue),
            actions: new Set(config.events.actions),
            trustProxy: config.auth.trustProxy,
          },
        };
  return createRegistryApp(registry, { ...app, ...events, ...(options.observe ? { observe: options.observe } : {}) });
}

/** The registry domain over the configured Azure storage (also used by GC and the CLI). */
export async function createRegistryService(config: Config, connectionString: string): Promise<RegistryService> {
  const storage = await createAzureStorage({
    connectionString,
    container: config.container,
    tablePrefix: config.tablePrefix,
  });
  return new RegistryService(storage, {
    blockSize: config.blockSize,
    concurrency: config.concurrency,
    redirect: config.blobRedirect,
    redirectTtlSeconds: config.redirectTtlSeconds,
    maxManifestBytes: config.maxManifestBytes,
    maxPageSize: config.maxPageSize,
    autoMount: config.autoMount,
    uploadTtlMs: config.uploadTtlMs,
  });
}

/** Events go to the queue the webhook delivery reads, one message each. */
function eventQueue(connectionString: string, name: string): EventSink {
  const queue = new JsonQueue<RegistryEvent>(connectionString, name);
  return { publish: (event) => queue.send(event) };
}
