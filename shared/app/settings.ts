import * as z from "zod";
import { SECRET_NAME } from "../storage/ports/secret-store.js";
import { parseDuration } from "../lib/duration.js";
import { subscriptionListSchema } from "../webhooks/subscription.js";

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((v) => v === "true" || v === "1" || v === "yes");
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
export const MiB = 1024 * 1024;

/**
 * Every setting, read from environment variables (Azure app settings, local.settings.json
 * `Values`, or the shell). Parsed once per process; a bad value stops start-up with a message
 * that names the variable.
 */
export const schema = z.object({
  PORT: int(0, 65535).default(5000),
  HOST: z.string().min(1).default("127.0.0.1"),
  // ---- the Node server's connection limits (see shared/adapters/server-limits.ts) ----
  /** The whole request head must arrive within this time. */
  STOWAGE_HTTP_HEADERS_TIMEOUT_SECONDS: int(1, 300).default(10),
  /** Idle keep-alive connections close after this; also the window of the body rate check. */
  STOWAGE_HTTP_IDLE_TIMEOUT_SECONDS: int(1, 3600).default(30),
  /** Average bytes per second a client must send while the server waits for its body. */
  STOWAGE_HTTP_MIN_BODY_RATE: int(0, 1 << 30).default(1024),
  /** Connections open at once (also capped below the process's open-file limit). */
  STOWAGE_HTTP_MAX_CONNECTIONS: int(1, 1_000_000).default(4096),
  STOWAGE_HTTP_MAX_CONNECTIONS_PER_ADDRESS: int(1, 1_000_000).default(256),
  /** On SIGTERM/SIGINT, requests in progress (uploads) get this long to finish before connections are cut. */
  STOWAGE_SHUTDOWN_GRACE_SECONDS: int(0, 3600).default(25),
  // ---- TLS when the Node server is the front door (see shared/server/tls-source.ts); unset: plain HTTP ----
  /** PEM certificate chain (leaf first) and its private key. */
  STOWAGE_TLS_CERT_FILE: z.string().min(1).optional(),
  STOWAGE_TLS_KEY_FILE: z.string().min(1).optional(),
  /** Or a PKCS#12 (PFX) file holding both, with its password. */
  STOWAGE_TLS_PFX_FILE: z.string().min(1).optional(),
  STOWAGE_TLS_PFX_PASSWORD: z.string().optional(),
  /** Or a secret in the secret store (Key Vault: a certificate's secret) holding a base64 PFX or PEM. */
  STOWAGE_TLS_SECRET_NAME: z.string().regex(SECRET_NAME, "letters, digits and -").optional(),
  /** How often the certificate source is checked for a renewed certificate (served without a restart). */
  STOWAGE_TLS_RELOAD_SECONDS: int(1, 86_400).default(60),
  /** Data directory for the embedded Azurite (used only when no connection string is set). */
  STOWAGE_DATA_DIR: z.string().min(1).default(".stowage"),
  /** Azure Storage connection string; when unset, `npm start` runs an embedded Azurite. */
  STOWAGE_STORAGE_CONNECTION_STRING: z.string().min(1).optional(),
  /** Or the account's name, reached with DefaultAzureCredential (managed identity, service principal). */
  STOWAGE_STORAGE_ACCOUNT: z
    .string()
    .regex(/^[a-z0-9]{3,24}$/, "3-24 lowercase letters and digits")
    .optional(),
  /** Its endpoints' suffix: https://<account>.blob.<suffix>; Azure Stack Hub: <region>.<external domain>. */
  STOWAGE_STORAGE_ENDPOINT_SUFFIX: z
    .string()
    .regex(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/, "a DNS suffix")
    .default("core.windows.net"),
  /** Pin the storage REST API version (x-ms-version, SAS sv); Azure Stack Hub accepts only older ones. */
  STOWAGE_STORAGE_API_VERSION: z
    .string()
    .regex(/^20\d\d-\d\d-\d\d$/, "a storage service version such as 2019-07-07")
    .optional(),
  STOWAGE_CONTAINER: z
    .string()
    .regex(/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/, "3-63 lowercase letters, digits and single hyphens")
    .default("registry"),
  STOWAGE_TABLE_PREFIX: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9]{0,29}$/, "a letter, then up to 29 letters or digits")
    .default("stowage"),
  /** Redirect blob downloads to short-lived read-only SAS URLs (needs an account-key connection). */
  STOWAGE_BLOB_REDIRECT: bool.default(false),
  STOWAGE_BLOB_REDIRECT_TTL_SECONDS: int(30, 3600).default(300),
  /** Staged block size for uploads, in MiB; memory per upload is about size x (concurrency + 1). */
  STOWAGE_BLOCK_SIZE_MIB: int(1, 100).default(8),
  STOWAGE_UPLOAD_CONCURRENCY: int(1, 16).default(3),
  STOWAGE_MAX_MANIFEST_BYTES: int(1024, 32 * MiB).default(4 * MiB),
  /** Distinct blobs and child manifests one manifest may reference (each is checked in storage). */
  STOWAGE_MAX_MANIFEST_REFERENCES: int(1, 100_000).default(1000),
  STOWAGE_MAX_PAGE_SIZE: int(1, 10_000).default(1000),
  /** Largest request body a client should send in one chunk (advertised as OCI-Chunk-Max-Length). */
  STOWAGE_CHUNK_MAX_BYTES: int(0, Number.MAX_SAFE_INTEGER).optional(),
  /** Allow DELETE of manifests, tags and blobs (answered 405 UNSUPPORTED when off). */
  STOWAGE_DELETE_ENABLED: bool.default(true),
  /** Mount a blob already anywhere in the registry when a client names it without `from`. */
  STOWAGE_AUTO_MOUNT: bool.default(false),
  /** Seconds an upload may stay unfinished before it is forgotten (default one day). */
  STOWAGE_UPLOAD_TTL_SECONDS: int(1, 30 * 86_400).default(86_400),
  /** Unfinished uploads one repository may have at once (POST answers 429 past it). */
  STOWAGE_MAX_UPLOADS_PER_REPOSITORY: int(1, 100_000).default(1000),

  // ---- storage lifecycle: garbage collection and retention (see shared/registry/lifecycle-service.ts) ----
  /** Blobs uploaded or mounted more recently than this are never swept (`90`, `30m`, `6h`, `2d`). */
  STOWAGE_GC_GRACE: z
    .string()
    .refine((v) => parseDuration(v) !== undefined, "seconds, or a number with s, m, h or d")
    .default("6h"),
  /** Timer and interval runs sweep unreferenced blobs (off: they only purge abandoned uploads). */
  STOWAGE_GC_SWEEP: bool.default(true),
  /** Node server: seconds between garbage collections. */
  STOWAGE_GC_INTERVAL_SECONDS: int(60, 7 * 86_400).default(3600),
  /** Sweep candidates handled at once (memory is about 200 bytes each). */
  STOWAGE_GC_BATCH: int(100, 1_000_000).default(10_000),
  /** JSON array of retention rules {repositories, untaggedDays?, keepTags?, tagPattern?}; unset: none. */
  STOWAGE_RETENTION: z
    .string()
    .transform((text, ctx) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        ctx.addIssue({ code: "custom", message: "not JSON" });
        return z.NEVER;
      }
    })
    .pipe(
      z.array(
        z.strictObject({
          repositories: z.string().min(1),
          untaggedDays: z.number().min(0).optional(),
          keepTags: z.number().int().min(0).optional(),
          tagPattern: z.string().min(1).optional(),
        }),
      ),
    )
    .optional(),

  // ---- events (see shared/events) ----
  /** Azure Storage queue that receives one message per event, before the request is answered. */
  STOWAGE_EVENT_QUEUE: z
    .string()
    // room for the "-deliveries-poison" suffix of the queues derived from it
    .regex(/^[a-z0-9](?!.*--)[a-z0-9-]{1,43}[a-z0-9]$/, "3-45 lowercase letters, digits and single hyphens")
    .default("stowage-events"),
  /** Comma-separated actions that produce events (push, delete, pull, mount), or `none`. */
  STOWAGE_EVENT_ACTIONS: z
    .string()
    .regex(
      /^(none|(push|delete|pull|mount)(,(push|delete|pull|mount))*)$/,
      "none, or a comma list of push, delete, pull, mount",
    )
    .default("push,delete"),
  /** Also record pushes and pulls of each blob (layer), as distribution does; off: manifests, mounts and deletes. */
  STOWAGE_EVENT_BLOBS: bool.default(false),

  // ---- webhooks: delivery of the queued events (see shared/webhooks) ----
  /** JSON array of subscriptions: {name, url, secret?, actions?, repositories?, headers?, format?, timeoutMs?}. */
  STOWAGE_WEBHOOKS: subscriptionListSchema.optional(),
  /** Attempts per delivery before it goes to the dead-letter store. */
  STOWAGE_WEBHOOK_MAX_ATTEMPTS: int(1, 100).default(8),
  /** Wait after a first failed attempt, doubling after each further one (rounded up to seconds). */
  STOWAGE_WEBHOOK_BACKOFF_MS: int(0, 86_400_000).default(10_000),
  STOWAGE_WEBHOOK_MAX_BACKOFF_MS: int(0, 7 * 86_400_000).default(3_600_000),
  /** Timeout of one delivery for subscriptions that set no timeoutMs. */
  STOWAGE_WEBHOOK_TIMEOUT_MS: int(100, 120_000).default(10_000),
  /** Node server: deliver webhooks from this process (off when a Functions app delivers them). */
  STOWAGE_WEBHOOK_DELIVERY: bool.default(true),
  /** Node server: how long the delivery poller waits after finding the queues empty. */
  STOWAGE_WEBHOOK_POLL_MS: int(50, 60_000).default(1000),
  /** Node server: deliveries in progress at once. */
  STOWAGE_WEBHOOK_CONCURRENCY: int(1, 256).default(16),

  // ---- operations: logs, audit, metrics, probes (see shared/observability) ----
  /** Node server: one structured line per request (server errors are always logged). */
  STOWAGE_ACCESS_LOG: bool.default(true),
  /** Also log `/healthz` and `/readyz` requests. */
  STOWAGE_ACCESS_LOG_PROBES: bool.default(false),
  /** `json` lines, `text` for people, `auto`: text when standard output is a terminal. */
  STOWAGE_LOG_FORMAT: z.enum(["auto", "json", "text"]).default("auto"),
  /** Audit lines (`"audit": true`) for logins, user/token/webhook changes, pushes and deletes. */
  STOWAGE_AUDIT_LOG: bool.default(true),
  /** `/metrics`: `off`, `loopback` (clients on this machine, not through a proxy), `token` (bearer). */
  STOWAGE_METRICS: z.enum(["off", "loopback", "token"]).default("off"),
  /** The bearer token `/metrics` wants with STOWAGE_METRICS=token (from a secret store). */
  STOWAGE_METRICS_TOKEN: z.string().min(16, "at least 16 characters").optional(),
  /** `/readyz` answers 503 when storage (or Key Vault) has not answered within this time. */
  STOWAGE_READYZ_TIMEOUT_MS: int(50, 30_000).default(2000),

  // ---- authentication (Docker token auth; see shared/auth) ----
  /** The registry's URL as clients reach it; the token realm is `<url>/token`. Unset: from the request's Host. */
  STOWAGE_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** Believe X-Forwarded-Proto/-Host/-For (only behind a reverse proxy that sets them). */
  STOWAGE_TRUST_PROXY: bool.default(false),
  /** The `service` of the challenge and the tokens' audience. */
  STOWAGE_TOKEN_SERVICE: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,253}$/, "letters, digits, . _ : -")
    .default("stowage"),
  /** The tokens' issuer. */
  STOWAGE_TOKEN_ISSUER: z
    .string()
    .regex(/^[A-Za-z0-9._:/-]{1,253}$/, "letters, digits, . _ : / -")
    .default("stowage"),
  STOWAGE_TOKEN_TTL_SECONDS: int(60, 3600).default(300),
  STOWAGE_REFRESH_TOKEN_TTL_DAYS: int(1, 3650).default(90),
  /** Password of the `admin` user created on first start (otherwise one is generated). */
  STOWAGE_ADMIN_PASSWORD: z.string().min(8, "at least 8 characters").optional(),
  /** Comma-separated repository patterns anyone may pull without credentials (`*`, `public/*`). */
  STOWAGE_ANONYMOUS_PULL: z
    .string()
    .regex(/^[a-z0-9._/*-]+(,[a-z0-9._/*-]+)*$/, "comma-separated repository patterns")
    .optional(),
  STOWAGE_LOGIN_MAX_FAILURES: int(1, 1000).default(5),
  STOWAGE_LOGIN_LOCKOUT_SECONDS: int(1, 86_400).default(900),
  /** Azure Key Vault holding the signing keys and bootstrap secrets; unset: files in STOWAGE_SECRETS_DIR. */
  STOWAGE_KEY_VAULT_URL: z.url({ protocol: /^https$/ }).optional(),
  /** Key Vault REST API version (Azure Stack Hub: 7.1). */
  STOWAGE_KEY_VAULT_API_VERSION: z.enum(["7.0", "7.1", "7.2", "7.3", "7.4", "7.5", "7.6", "2025-07-01"]).optional(),
  /** Azure Stack Hub: its challenge names a resource outside the vault's domain. */
  STOWAGE_KEY_VAULT_DISABLE_CHALLENGE_RESOURCE_VERIFICATION: bool.default(false),
  /** Where secrets are kept without Key Vault (default: `<STOWAGE_DATA_DIR>/secrets`). */
  STOWAGE_SECRETS_DIR: z.string().min(1).optional(),
  /** Prefix of the secret names (`<prefix>-signing-key`, `<prefix>-admin-password`). */
  STOWAGE_SECRET_PREFIX: z
    .string()
    .regex(/^[0-9a-zA-Z-]{1,64}$/, "letters, digits and -")
    .default("stowage"),
});

export type Settings = z.infer<typeof schema>;

/** The name of every setting (deployment templates are checked against it). */
export const settingNames: readonly string[] = Object.keys(schema.shape);
