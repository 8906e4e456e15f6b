import { join } from "node:path";
import type { EventAction } from "../events/registry-event.js";
import { parseDuration } from "../lib/duration.js";
import type { RetentionRule } from "../registry/retention.js";
import type { RetryPolicy } from "../webhooks/retry-policy.js";
import type { Subscription } from "../webhooks/subscription.js";
import { MiB, schema, type Settings } from "./settings.js";

export { settingNames, type Settings } from "./settings.js";

export interface Config {
  port: number;
  host: string;
  http: ServerLimits;
  /** Unset: plain HTTP (behind an ingress or App Service's front end). */
  tls: TlsConfig | undefined;
  shutdownGraceMs: number;
  dataDir: string;
  connectionString: string | undefined;
  /** Storage by account name and DefaultAzureCredential (when no connection string is set). */
  storageAccount: { name: string; endpointSuffix: string } | undefined;
  /** Pinned storage REST API version (unset: the SDKs' own). */
  storageApiVersion: string | undefined;
  container: string;
  tablePrefix: string;
  blobRedirect: boolean;
  redirectTtlSeconds: number;
  blockSize: number;
  concurrency: number;
  maxManifestBytes: number;
  maxManifestReferences: number;
  maxPageSize: number;
  chunkMaxBytes: number | undefined;
  deleteEnabled: boolean;
  autoMount: boolean;
  uploadTtlMs: number;
  maxUploadsPerRepository: number;
  gc: GcConfig;
  events: EventsConfig;
  webhooks: WebhooksConfig;
  observability: ObservabilityConfig;
  auth: AuthConfig;
}

/**
 * What a connection to the Node server may cost, so slow or idle clients cannot hold its
 * sockets and descriptors (slowloris). Every limit bounds time or count, none the size or
 * duration of a legitimate upload. Enforced by shared/adapters/server-limits.ts.
 */
export interface ServerLimits {
  /** The whole request head must arrive within this time. */
  headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this; also the window of the body rate check. */
  idleTimeoutMs: number;
  /**
   * While the server is waiting for body bytes, the client must send at least this many per
   * second on average over each idle-timeout window (a slow-but-steady upload passes easily;
   * a byte every few seconds does not). Time the server itself is busy does not count.
   */
  minBodyBytesPerSecond: number;
  /** Connections open at once; further ones are refused until one closes. */
  maxConnections: number;
  /** Connections open at once from one client address. */
  maxConnectionsPerAddress: number;
}

/** Where the Node server's certificate and key come from (one source). */
export interface TlsConfig {
  source:
    | { kind: "pem"; certFile: string; keyFile: string }
    | { kind: "pfx"; pfxFile: string; passphrase: string | undefined }
    | { kind: "secret"; secretName: string; passphrase: string | undefined };
  reloadMs: number;
}

/** Delivery of events to subscribed endpoints (see shared/webhooks). */
export interface WebhooksConfig {
  /** From STOWAGE_WEBHOOKS; the CLI manages more in storage. */
  subscriptions: Subscription[];
  retry: RetryPolicy;
  timeoutMs: number;
  /** Node server: run the in-process delivery pollers. */
  deliver: boolean;
  pollMs: number;
  concurrency: number;
}

/** Storage lifecycle (see shared/registry/lifecycle-service.ts). */
export interface GcConfig {
  graceMs: number;
  sweep: boolean;
  intervalMs: number;
  batchSize: number;
  retention: RetentionRule[];
}

/** Where registry events go (see shared/events). */
export interface EventsConfig {
  queue: string;
  /** Actions recorded; empty: no events at all. */
  actions: EventAction[];
  /** Record blob pushes and pulls too (not only manifests). */
  blobTransfers: boolean;
}

/** Authentication settings (see shared/auth). */
export interface AuthConfig {
  publicUrl: string | undefined;
  trustProxy: boolean;
  service: string;
  issuer: string;
  tokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  adminPassword: string | undefined;
  /** Repository patterns open to anonymous pull ([] = none). */
  anonymousPull: string[];
  loginMaxFailures: number;
  loginLockoutSeconds: number;
  keyVault: KeyVaultConfig | undefined;
  secretsDir: string;
  secretPrefix: string;
}

export interface KeyVaultConfig {
  url: string;
  serviceVersion: Settings["STOWAGE_KEY_VAULT_API_VERSION"];
  disableChallengeResourceVerification: boolean;
}

export interface ObservabilityConfig {
  accessLog: boolean;
  accessLogProbes: boolean;
  logFormat: "auto" | "json" | "text";
  audit: boolean;
  metrics: "off" | "loopback" | "token";
  metricsToken: string | undefined;
  readyTimeoutMs: number;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Parses the environment; throws ConfigError listing every bad variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ""));
  const result = schema.safeParse(present);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n  ${problems.join("\n  ")}`);
  }
  const s = result.data;
  if (s.STOWAGE_STORAGE_CONNECTION_STRING && s.STOWAGE_STORAGE_ACCOUNT) {
    throw new ConfigError(
      "invalid configuration:\n  set STOWAGE_STORAGE_CONNECTION_STRING or STOWAGE_STORAGE_ACCOUNT, not both",
    );
  }
  if (s.STOWAGE_METRICS === "token" && !s.STOWAGE_METRICS_TOKEN) {
    throw new ConfigError("invalid configuration:\n  STOWAGE_METRICS_TOKEN: required with STOWAGE_METRICS=token");
  }
  return {
    port: s.PORT,
    host: s.HOST,
    http: {
      headersTimeoutMs: s.STOWAGE_HTTP_HEADERS_TIMEOUT_SECONDS * 1000,
      idleTimeoutMs: s.STOWAGE_HTTP_IDLE_TIMEOUT_SECONDS * 1000,
      minBodyBytesPerSecond: s.STOWAGE_HTTP_MIN_BODY_RATE,
      maxConnections: s.STOWAGE_HTTP_MAX_CONNECTIONS,
      maxConnectionsPerAddress: s.STOWAGE_HTTP_MAX_CONNECTIONS_PER_ADDRESS,
    },
    tls: tlsConfig(s),
    shutdownGraceMs: s.STOWAGE_SHUTDOWN_GRACE_SECONDS * 1000,
    dataDir: s.STOWAGE_DATA_DIR,
    connectionString: s.STOWAGE_STORAGE_CONNECTION_STRING,
    storageAccount: s.STOWAGE_STORAGE_ACCOUNT
      ? { name: s.STOWAGE_STORAGE_ACCOUNT, endpointSuffix: s.STOWAGE_STORAGE_ENDPOINT_SUFFIX }
      : undefined,
    storageApiVersion: s.STOWAGE_STORAGE_API_VERSION,
    container: s.STOWAGE_CONTAINER,
    tablePrefix: s.STOWAGE_TABLE_PREFIX,
    blobRedirect: s.STOWAGE_BLOB_REDIRECT,
    redirectTtlSeconds: s.STOWAGE_BLOB_REDIRECT_TTL_SECONDS,
    blockSize: s.STOWAGE_BLOCK_SIZE_MIB * MiB,
    concurrency: s.STOWAGE_UPLOAD_CONCURRENCY,
    maxManifestBytes: s.STOWAGE_MAX_MANIFEST_BYTES,
    maxManifestReferences: s.STOWAGE_MAX_MANIFEST_REFERENCES,
    maxPageSize: s.STOWAGE_MAX_PAGE_SIZE,
    chunkMaxBytes: s.STOWAGE_CHUNK_MAX_BYTES,
    deleteEnabled: s.STOWAGE_DELETE_ENABLED,
    autoMount: s.STOWAGE_AUTO_MOUNT,
    uploadTtlMs: s.STOWAGE_UPLOAD_TTL_SECONDS * 1000,
    maxUploadsPerRepository: s.STOWAGE_MAX_UPLOADS_PER_REPOSITORY,
    gc: {
      graceMs: parseDuration(s.STOWAGE_GC_GRACE) as number,
      sweep: s.STOWAGE_GC_SWEEP,
      intervalMs: s.STOWAGE_GC_INTERVAL_SECONDS * 1000,
      batchSize: s.STOWAGE_GC_BATCH,
      retention: (s.STOWAGE_RETENTION ?? []).map(
        (rule) =>
          Object.fromEntries(Object.entries(rule).filter(([, v]) => v !== undefined)) as unknown as RetentionRule,
      ),
    },
    events: {
      queue: s.STOWAGE_EVENT_QUEUE,
      actions: s.STOWAGE_EVENT_ACTIONS === "none" ? [] : (s.STOWAGE_EVENT_ACTIONS.split(",") as EventAction[]),
      blobTransfers: s.STOWAGE_EVENT_BLOBS,
    },
    webhooks: {
      subscriptions: s.STOWAGE_WEBHOOKS ?? [],
      retry: {
        maxAttempts: s.STOWAGE_WEBHOOK_MAX_ATTEMPTS,
        backoffMs: s.STOWAGE_WEBHOOK_BACKOFF_MS,
        maxBackoffMs: s.STOWAGE_WEBHOOK_MAX_BACKOFF_MS,
      },
      timeoutMs: s.STOWAGE_WEBHOOK_TIMEOUT_MS,
      deliver: s.STOWAGE_WEBHOOK_DELIVERY,
      pollMs: s.STOWAGE_WEBHOOK_POLL_MS,
      concurrency: s.STOWAGE_WEBHOOK_CONCURRENCY,
    },
    observability: {
      accessLog: s.STOWAGE_ACCESS_LOG,
      accessLogProbes: s.STOWAGE_ACCESS_LOG_PROBES,
      logFormat: s.STOWAGE_LOG_FORMAT,
      audit: s.STOWAGE_AUDIT_LOG,
      metrics: s.STOWAGE_METRICS,
      metricsToken: s.STOWAGE_METRICS_TOKEN,
      readyTimeoutMs: s.STOWAGE_READYZ_TIMEOUT_MS,
    },
    auth: {
      publicUrl: s.STOWAGE_PUBLIC_URL,
      trustProxy: s.STOWAGE_TRUST_PROXY,
      service: s.STOWAGE_TOKEN_SERVICE,
      issuer: s.STOWAGE_TOKEN_ISSUER,
      tokenTtlSeconds: s.STOWAGE_TOKEN_TTL_SECONDS,
      refreshTokenTtlSeconds: s.STOWAGE_REFRESH_TOKEN_TTL_DAYS * 86_400,
      adminPassword: s.STOWAGE_ADMIN_PASSWORD,
      anonymousPull: s.STOWAGE_ANONYMOUS_PULL?.split(",") ?? [],
      loginMaxFailures: s.STOWAGE_LOGIN_MAX_FAILURES,
      loginLockoutSeconds: s.STOWAGE_LOGIN_LOCKOUT_SECONDS,
      keyVault: s.STOWAGE_KEY_VAULT_URL
        ? {
            url: s.STOWAGE_KEY_VAULT_URL,
            serviceVersion: s.STOWAGE_KEY_VAULT_API_VERSION,
            disableChallengeResourceVerification: s.STOWAGE_KEY_VAULT_DISABLE_CHALLENGE_RESOURCE_VERIFICATION,
          }
        : undefined,
      secretsDir: s.STOWAGE_SECRETS_DIR ?? join(s.STOWAGE_DATA_DIR, "secrets"),
      secretPrefix: s.STOWAGE_SECRET_PREFIX,
    },
  };
}

/** Exactly one certificate source, complete, or none. */
function tlsConfig(s: Settings): TlsConfig | undefined {
  const pem = s.STOWAGE_TLS_CERT_FILE !== undefined || s.STOWAGE_TLS_KEY_FILE !== undefined;
  const sources = [pem, s.STOWAGE_TLS_PFX_FILE !== undefined, s.STOWAGE_TLS_SECRET_NAME !== undefined];
  if (sources.filter(Boolean).length > 1)
    throw new ConfigError(
      "invalid configuration:\n  STOWAGE_TLS_*: set one of CERT_FILE + KEY_FILE, PFX_FILE or SECRET_NAME",
    );
  const reloadMs = s.STOWAGE_TLS_RELOAD_SECONDS * 1000;
  const passphrase = s.STOWAGE_TLS_PFX_PASSWORD;
  if (pem) {
    if (!s.STOWAGE_TLS_CERT_FILE || !s.STOWAGE_TLS_KEY_FILE)
      throw new ConfigError("invalid configuration:\n  STOWAGE_TLS_CERT_FILE and STOWAGE_TLS_KEY_FILE go together");
    return { source: { kind: "pem", certFile: s.STOWAGE_TLS_CERT_FILE, keyFile: s.STOWAGE_TLS_KEY_FILE }, reloadMs };
  }
  if (s.STOWAGE_TLS_PFX_FILE) return { source: { kind: "pfx", pfxFile: s.STOWAGE_TLS_PFX_FILE, passphrase }, reloadMs };
  if (s.STOWAGE_TLS_SECRET_NAME)
    return { source: { kind: "secret", secretName: s.STOWAGE_TLS_SECRET_NAME, passphrase }, reloadMs };
  return undefined;
}
