import { randomBytes } from "node:crypto";
import { loadConfig, type Config } from "../../shared/config.js";
import { createRegistry } from "../../shared/create-registry.js";
import { openAccess, type Authorizer } from "../../shared/http/authorizer.js";
import type { FetchHandler } from "../../shared/http/registry-app.js";
import type { RegistryOptions } from "../../shared/registry/registry-service.js";

/** Options for tests that build a RegistryService by hand (to put a faulty store or sink in). */
export const SMALL_REGISTRY: RegistryOptions = {
  blockSize: 1 << 20,
  concurrency: 2,
  redirect: false,
  redirectTtlSeconds: 60,
  maxManifestBytes: 1 << 20,
  maxPageSize: 100,
  autoMount: false,
  uploadTtlMs: 60_000,
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

export interface TestRegistry {
  handle: FetchHandler;
  config: Config;
  /** Calls the fetch-style entry with a path relative to the registry root. */
  fetch(path: string, init?: RequestInit & { duplex?: "half" }): Promise<Response>;
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
  const config = isolatedConfig(connectionString, env);
  const handle = await createRegistry(config, { authorizer });
  return {
    handle,
    config,
    fetch: (path, init) => handle(new Request(`http://registry.test${path}`, init)),
  };
}
