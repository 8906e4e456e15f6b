import { randomBytes } from "node:crypto";
import { buildApp, type App, type AppOptions } from "../../shared/app/build-app.js";
import { loadConfig, type Config } from "../../shared/app/config.js";
import { openAccess, type Authorizer } from "../../shared/http/authorizer.js";
import type { FetchHandler } from "../../shared/http/fetch-handler.js";
import { fixedMacKeys, HmacSealer } from "../../shared/lib/hmac-sealer.js";
import { createRegistryApp, type RegistryForRequest } from "../../shared/http/registry/registry-app.js";
import type { RegistryOptions } from "../../shared/registry/registry-service.js";
import { connectAzureStorage } from "../../shared/storage/azure/azure-storage.js";
import type { RegistryStorage } from "../../shared/storage/ports/registry-storage.js";

/** Options for tests that build a RegistryService by hand (to put a faulty store or sink in). */
export const SMALL_REGISTRY: RegistryOptions = {
  blockSize: 1 << 20,
  concurrency: 2,
  redirect: false,
  redirectTtlSeconds: 60,
  maxManifestBytes: 1 << 20,
  maxManifestReferences: 1000,
  maxPageSize: 100,
  autoMount: false,
  uploadTtlMs: 60_000,
  maxUploadsPerRepository: 1000,
  now: Date.now,
  sealer: new HmacSealer(fixedMacKeys(randomBytes(32))),
};

/** A config whose container and tables no other test uses, so tests never see each other's data. */
export function isolatedConfig(connectionString: string, env: Record<string, string> = {}): Config {
  const id = randomBytes(4).toString("hex");
  return loadConfig({
    STOWAGE_STORAGE_CONNECTION_STRING: connectionString,
    STOWAGE_CONTAINER: `test-${id}`,
    STOWAGE_TABLE_PREFIX: `t${id}`,
    STOWAGE_EVENT_QUEUE: `events-${id}`,
    ...env,
  });
}

/** What the adapters would tell the core about a request made by a test: a loopback client. */
export const LOOPBACK = { clientAddress: "127.0.0.1" };

/** Calls a fetch-style handler with a path relative to the registry root, as a loopback client. */
export function fetcher(handle: FetchHandler) {
  return (path: string, init?: RequestInit & { duplex?: "half" }) =>
    handle(new Request(`http://registry.test${path}`, init), LOOPBACK);
}

export interface TestRegistry {
  handle: FetchHandler;
  config: Config;
  /** Calls the fetch-style entry with a path relative to the registry root. */
  fetch(path: string, init?: RequestInit & { duplex?: "half" }): Promise<Response>;
}

/** The application over its own container and tables, built by the composition root. */
export async function createTestApp(
  connectionString: string,
  env: Record<string, string> = {},
  options: AppOptions = {},
): Promise<App & { fetch: ReturnType<typeof fetcher> }> {
  const app = await buildApp(isolatedConfig(connectionString, env), options);
  return Object.assign(app, { fetch: fetcher(app.handle) });
}

/**
 * A registry over its own container and tables. Open access unless an authorizer is given:
 * the protocol suite tests the protocol, the auth suite (test/auth) tests access control.
 */
export async function createTestRegistry(
  connectionString: string,
  env: Record<string, string> = {},
  authorizer: Authorizer = openAccess,
): Promise<TestRegistry> {
  const app = await createTestApp(connectionString, env, { authorizer });
  return { handle: app.handle, config: app.config, fetch: app.fetch };
}

/**
 * A registry app over its own storage, wired by hand so a test can put a faulty part in
 * (a store that fails once, an event sink that is down). Open access.
 */
export async function handBuiltRegistry(
  connectionString: string,
  build: (storage: RegistryStorage) => RegistryForRequest,
): Promise<TestRegistry> {
  const config = isolatedConfig(connectionString);
  const storage = connectAzureStorage({
    connectionString,
    container: config.container,
    tablePrefix: config.tablePrefix,
  });
  await storage.ensureCreated();
  const handle = createRegistryApp(build(storage.registry), {
    chunks: { min: 1, max: undefined },
    deleteEnabled: true,
    authorizer: openAccess,
    publicUrl: undefined,
    trustProxy: false,
  });
  return { handle, config, fetch: fetcher(handle) };
}
