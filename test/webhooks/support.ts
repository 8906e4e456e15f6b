import { startBackgroundJobs } from "../../shared/app/background-jobs.js";
import type { WebhookParts } from "../../shared/app/build-app.js";
import type { Config } from "../../shared/app/config.js";
import type { RegistryEvent } from "../../shared/events/registry-event.js";
import { openAccess } from "../../shared/http/authorizer.js";
import { createTestApp, type TestRegistry } from "../helpers/registry.js";

/** Retries fast enough for tests: 1 s, 2 s, ... between attempts. */
export const FAST_DELIVERY = {
  STOWAGE_WEBHOOK_BACKOFF_MS: "1000",
  STOWAGE_WEBHOOK_POLL_MS: "100",
  STOWAGE_WEBHOOK_TIMEOUT_MS: "2000",
};

export interface Harness {
  registry: TestRegistry;
  webhooks: WebhookParts;
  /** What the delivery side logged. */
  log: string[];
  /** The settings (STOWAGE_*) the registry was built with, for the CLI. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** A registry with its own queues and tables, and the Node server's delivery pollers on them. */
export async function startHarness(
  connectionString: string,
  env: Record<string, string>,
  jobs: { subscriptionCheckMs?: number } = {},
): Promise<Harness> {
  const log: string[] = [];
  const app = await createTestApp(
    connectionString,
    { ...FAST_DELIVERY, ...env },
    { authorizer: openAccess, log: (line) => log.push(line) },
  );
  const background = startBackgroundJobs(app, (line) => log.push(line), jobs);
  return {
    registry: { handle: app.handle, config: app.config, fetch: app.fetch },
    webhooks: app.webhooks,
    log,
    env: { ...FAST_DELIVERY, ...env, ...settingsOf(app.config, connectionString) },
    stop: () => background.stop(),
  };
}

function settingsOf(config: Config, connectionString: string): Record<string, string> {
  return {
    STOWAGE_STORAGE_CONNECTION_STRING: connectionString,
    STOWAGE_CONTAINER: config.container,
    STOWAGE_TABLE_PREFIX: config.tablePrefix,
    STOWAGE_EVENT_QUEUE: config.events.queue,
  };
}

export { cli as runCli } from "../helpers/cli.js";

/** The events of distribution envelopes received. */
export function envelopeEvents(
  bodies: { body: string }[],
): { id: string; action: string; target: Record<string, unknown> }[] {
  return bodies.flatMap((r) => (JSON.parse(r.body) as { events: never[] }).events);
}

/** A complete push event, as the registry queues it. */
export const sampleEvent: RegistryEvent = {
  id: "3f1c1d2e-0000-4000-8000-000000000001",
  timestamp: "2025-01-02T03:04:05.000Z",
  action: "push",
  target: {
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    digest: "sha256:" + "a".repeat(64),
    size: 42,
    length: 42,
    repository: "team/app",
    url: "http://registry.test/v2/team/app/manifests/sha256:" + "a".repeat(64),
    tag: "v1",
  },
  request: { id: "r1", addr: "10.0.0.1", host: "registry.test", method: "PUT", useragent: "skopeo" },
  actor: { name: "alice" },
  source: { addr: "host", instanceID: "i1" },
};
