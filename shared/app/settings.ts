import * as z from "../lib/schema.js";
import { SECRET_NAME } from "../storage/ports/secret-store.js";
import { parseDuration } from "../lib/duration.js";
import { jsonText } from "../lib/json-text.js";
import { MAX_BLOCK_BYTES } from "../registry/block-writer.js";
import { subscriptionListSchema } from "../webhooks/subscription.js";

const bool = z.pipe(
  z.enum(["true", "false", "1", "0", "yes", "no"]),
  z.transform((v) => v === "true" || v === "1" || v === "yes"),
);
const int = (min: number, max: number) => z.coerce.number().check(z.int(), z.minimum(min), z.maximum(max));
/** A string matching `pattern`; `message` says what was expected. */
const matching = (pattern: RegExp, message: string) => z.string().check(z.regex(pattern, message));
const nonEmpty = z.string().check(z.minLength(1));
export const MiB = 1024 * 1024;

/**
 * Every setting, read from environment variables (Azure app settings, local.settings.json
 * `Values`, or the shell). Parsed once per process; a bad value stops start-up with a message
 * that names the variable.
 */
export const schema = z.object({
  PORT: z._default(int(0, 65535), 5000),
  HOST: z._default(nonEmpty, "127.0.0.1"),
  // ---- the Node server's connection limits (see shared/adapters/server-limits.ts) ----
  /** The whole request head must arrive within this time. */
  STOWAGE_HTTP_HEADERS_TIMEOUT_SECONDS: z._default(int(1, 300), 10),
  /** Idle keep-alive connections close after this; also the window of the body rate check. */
  STOWAGE_HTTP_IDLE_TIMEOUT_SECONDS: z._default(int(1, 3600), 30),
  /** Average bytes per second a client must send while the server waits for its body. */
  STOWAGE_HTTP_MIN_BODY_RATE: z._default(int(0, 1 << 30), 1024),
  /** Connections open at once (also capped below the process's open-file limit). */
  STOWAGE_HTTP_MAX_CONNECTIONS: z._default(int(1, 1_000_000), 4096),
  STOWAGE_HTTP_MAX_CONNECTIONS_PER_ADDRESS: z._default(int(1, 1_000_000), 256),
  /** On SIGTERM/SIGINT, requests in progress (uploads) get this long to finish before connections are cut. */
  STOWAGE_SHUTDOWN_GRACE_SECONDS: z._default(int(0, 3600), 25),
  // ---- TLS when the Node server is the front door (see shared/server/tls-source.ts); unset: plain HTTP ----
  /** PEM certificate chain (leaf first) and its private key. */
  STOWAGE_TLS_CERT_FILE: z.optional(nonEmpty),
  STOWAGE_TLS_KEY_FILE: z.optional(nonEmpty),
  /** Or a PKCS#12 (PFX) file holding both, with its password. */
  STOWAGE_TLS_PFX_FILE: z.optional(nonEmpty),
  STOWAGE_TLS_PFX_PASSWORD: z.optional(z.string()),
  /** Or a secret in the secret store (Key Vault: a certificate's secret) holding a base64 PFX or PEM. */
  STOWAGE_TLS_SECRET_NAME: z.optional(matching(SECRET_NAME, "letters, digits and -")),
  /** How often the certificate source is checked for a renewed certificate (served without a restart). */
  STOWAGE_TLS_RELOAD_SECONDS: z._default(int(1, 86_400), 60),
  /** Data directory for the embedded Azurite (used only when no connection string is set). */
  STOWAGE_DATA_DIR: z._default(nonEmpty, ".stowage"),
  /** Azure Storage connection string; when unset, `npm start` runs an embedded Azurite. */
  STOWAGE_STORAGE_CONNECTION_STRING: z.optional(nonEmpty),
  /** Or the account's name, reached with DefaultAzureCredential (managed identity, service principal). */
  STOWAGE_STORAGE_ACCOUNT: z.optional(matching(/^[a-z0-9]{3,24}$/, "3-24 lowercase letters and digits")),
  /** Its endpoints' suffix: https://<account>.blob.<suffix>; Azure Stack Hub: <region>.<external domain>. */
  STOWAGE_STORAGE_ENDPOINT_SUFFIX: z._default(
    matching(/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$/, "a DNS suffix"),
    "core.windows.net",
  ),
  /** Pin the storage REST API version (x-ms-version, SAS sv); Azure Stack Hub accepts only older ones. */
  STOWAGE_STORAGE_API_VERSION: z.optional(
    matching(/^20\d\d-\d\d-\d\d$/, "a storage service version such as 2019-07-07"),
  ),
  STOWAGE_CONTAINER: z._default(
    matching(/^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$/, "3-63 lowercase letters, digits and single hyphens"),
    "registry",
  ),
  STOWAGE_TABLE_PREFIX: z._default(
    matching(/^[A-Za-z][A-Za-z0-9]{0,29}$/, "a letter, then up to 29 letters or digits"),
    "stowage",
  ),
  /** Redirect blob downloads to short-lived read-only SAS URLs (needs an account-key connection). */
  STOWAGE_BLOB_REDIRECT: z._default(bool, false),
  STOWAGE_BLOB_REDIRECT_TTL_SECONDS: z._default(int(30, 3600), 300),
  /** Staged block size for uploads, in MiB; memory per upload is about size x (concurrency + 1). */
  STOWAGE_BLOCK_SIZE_MIB: z._default(int(1, MAX_BLOCK_BYTES / MiB), 4),
  STOWAGE_UPLOAD_CONCURRENCY: z._default(int(1, 16), 3),
  STOWAGE_MAX_MANIFEST_BYTES: z._default(int(1024, 32 * MiB), 4 * MiB),
  /** Distinct blobs and child manifests one manifest may reference (each is checked in storage). */
  STOWAGE_MAX_MANIFEST_REFERENCES: z._default(int(1, 100_000), 1000),
  STOWAGE_MAX_PAGE_SIZE: z._default(int(1, 10_000), 1000),
  /** Largest request body a client should send in one chunk (advertised as OCI-Chunk-Max-Length). */
  STOWAGE_CHUNK_MAX_BYTES: z.optional(int(0, Number.MAX_SAFE_INTEGER)),
  /** Allow DELETE of manifests, tags and blobs (answered 405 UNSUPPORTED when off). */
  STOWAGE_DELETE_ENABLED: z._default(bool, true),
  /** Mount a blob already anywhere in the registry when a client names it without `from`. */
  STOWAGE_AUTO_MOUNT: z._default(bool, false),
  /** Seconds an upload may stay unfinished before it is forgotten (default one day). */
  STOWAGE_UPLOAD_TTL_SECONDS: z._default(int(1, 30 * 86_400), 86_400),
  /** Unfinished uploads one repository may have at once (an upload's first PATCH answers 429 past it). */
  STOWAGE_MAX_UPLOADS_PER_REPOSITORY: z._default(int(1, 100_000), 1000),

  // ---- storage lifecycle: garbage collection and retention (see shared/registry/lifecycle-service.ts) ----
  /** Blobs uploaded or mounted more recently than this are never swept (`90`, `30m`, `6h`, `2d`). */
  STOWAGE_GC_GRACE: z._default(
    z.string().check(z.refine((v) => parseDuration(v) !== undefined, "seconds, or a number with s, m, h or d")),
    "6h",
  ),
  /** Timer and interval runs sweep unreferenced blobs (off: they only purge abandoned uploads). */
  STOWAGE_GC_SWEEP: z._default(bool, true),
  /** Node server: seconds between garbage collections. */
  STOWAGE_GC_INTERVAL_SECONDS: z._default(int(60, 7 * 86_400), 3600),
  /** Sweep candidates handled at once (memory is about 200 bytes each). */
  STOWAGE_GC_BATCH: z._default(int(100, 1_000_000), 10_000),
  /** JSON array of retention rules {repositories, untaggedDays?, keepTags?, tagPattern?}; unset: none. */
  STOWAGE_RETENTION: z.optional(
    z.pipe(
      jsonText("not JSON"),
      z.array(
        z.strictObject({
          repositories: nonEmpty,
          untaggedDays: z.optional(z.number().check(z.minimum(0))),
          keepTags: z.optional(z.number().check(z.int(), z.minimum(0))),
          tagPattern: z.optional(nonEmpty),
        }),
      ),
    ),
  ),

  // ---- events (see shared/events) ----
  /** Azure Storage queue that receives one message per event, before the request is answered. */
  // 3-45 characters: room for the "-deliveries-poison" suffix of the queues derived from it
  STOWAGE_EVENT_QUEUE: z._default(
    matching(/^[a-z0-9](?!.*--)[a-z0-9-]{1,43}[a-z0-9]$/, "3-45 lowercase letters, digits and single hyphens"),
    "stowage-events",
  ),
  /** Comma-separated actions that produce events (push, delete, pull, mount), or `none`. */
  STOWAGE_EVENT_ACTIONS: z._default(
    matching(
      /^(none|(push|delete|pull|mount)(,(push|delete|pull|mount))*)$/,
      "none, or a comma list of push, delete, pull, mount",
    ),
    "push,delete",
  ),
  /** Also record pushes and pulls of each blob (layer), as distribution does; off: manifests, mounts and deletes. */
  STOWAGE_EVENT_BLOBS: z._default(bool, false),

  // ---- webhooks: delivery of the queued events (see shared/webhooks) ----
  /** JSON array of subscriptions: {name, url, secret?, actions?, repositories?, headers?, format?, timeoutMs?}. */
  STOWAGE_WEBHOOKS: z.optional(subscriptionListSchema),
  /** Attempts per delivery before it goes to the dead-letter store. */
  STOWAGE_WEBHOOK_MAX_ATTEMPTS: z._default(int(1, 100), 8),
  /** Wait after a first failed attempt, doubling after each further one (rounded up to seconds). */
  STOWAGE_WEBHOOK_BACKOFF_MS: z._default(int(0, 86_400_000), 10_000),
  STOWAGE_WEBHOOK_MAX_BACKOFF_MS: z._default(int(0, 7 * 86_400_000), 3_600_000),
  /** Timeout of one delivery for subscriptions that set no timeoutMs. */
  STOWAGE_WEBHOOK_TIMEOUT_MS: z._default(int(100, 120_000), 10_000),
  /** Node server: deliver webhooks from this process (off when a Functions app delivers them). */
  STOWAGE_WEBHOOK_DELIVERY: z._default(bool, true),
  /** Node server: how long the delivery poller waits after finding the queues empty. */
  STOWAGE_WEBHOOK_POLL_MS: z._default(int(50, 60_000), 1000),
  /** Node server: deliveries in progress at once. */
  STOWAGE_WEBHOOK_CONCURRENCY: z._default(int(1, 256), 16),

  // ---- operations: logs, audit, metrics, probes (see shared/observability) ----
  /** Node server: one structured line per request (server errors are always logged). */
  STOWAGE_ACCESS_LOG: z._default(bool, true),
  /** Also log `/healthz` and `/readyz` requests. */
  STOWAGE_ACCESS_LOG_PROBES: z._default(bool, false),
  /** `json` lines, `text` for people, `auto`: text when standard output is a terminal. */
  STOWAGE_LOG_FORMAT: z._default(z.enum(["auto", "json", "text"]), "auto"),
  /** Audit lines (`"audit": true`) for logins, user/token/webhook changes, pushes and deletes. */
  STOWAGE_AUDIT_LOG: z._default(bool, true),
  /** `/metrics`: `off`, `loopback` (clients on this machine, not through a proxy), `token` (bearer). */
  STOWAGE_METRICS: z._default(z.enum(["off", "loopback", "token"]), "off"),
  /** The bearer token `/metrics` wants with STOWAGE_METRICS=token (from a secret store). */
  STOWAGE_METRICS_TOKEN: z.optional(z.string().check(z.minLength(16, "at least 16 characters"))),
  /** `/readyz` answers 503 when storage (or Key Vault) has not answered within this time. */
  STOWAGE_READYZ_TIMEOUT_MS: z._default(int(50, 30_000), 2000),

  // ---- authentication (Docker token auth; see shared/auth) ----
  /** The registry's URL as clients reach it; the token realm is `<url>/token`. Unset: from the request's Host. */
  STOWAGE_PUBLIC_URL: z.optional(z.url({ protocol: /^https?$/ })),
  /** Believe X-Forwarded-Proto/-Host/-For (only behind a reverse proxy that sets them). */
  STOWAGE_TRUST_PROXY: z._default(bool, false),
  /** The `service` of the challenge and the tokens' audience. */
  STOWAGE_TOKEN_SERVICE: z._default(matching(/^[A-Za-z0-9._:-]{1,253}$/, "letters, digits, . _ : -"), "stowage"),
  /** The tokens' issuer. */
  STOWAGE_TOKEN_ISSUER: z._default(matching(/^[A-Za-z0-9._:/-]{1,253}$/, "letters, digits, . _ : / -"), "stowage"),
  STOWAGE_TOKEN_TTL_SECONDS: z._default(int(60, 3600), 300),
  STOWAGE_REFRESH_TOKEN_TTL_DAYS: z._default(int(1, 3650), 90),
  /** Password of the `admin` user created on first start (otherwise one is generated). */
  STOWAGE_ADMIN_PASSWORD: z.optional(z.string().check(z.minLength(8, "at least 8 characters"))),
  /** Comma-separated repository patterns anyone may pull without credentials (`*`, `public/*`). */
  STOWAGE_ANONYMOUS_PULL: z.optional(
    matching(/^[a-z0-9._/*-]+(,[a-z0-9._/*-]+)*$/, "comma-separated repository patterns"),
  ),
  STOWAGE_LOGIN_MAX_FAILURES: z._default(int(1, 1000), 5),
  STOWAGE_LOGIN_LOCKOUT_SECONDS: z._default(int(1, 86_400), 900),
  /** Azure Key Vault holding the signing keys and bootstrap secrets; unset: files in STOWAGE_SECRETS_DIR. */
  STOWAGE_KEY_VAULT_URL: z.optional(z.url({ protocol: /^https$/ })),
  /** Key Vault REST API version (Azure Stack Hub: 7.1). */
  STOWAGE_KEY_VAULT_API_VERSION: z.optional(z.enum(["7.0", "7.1", "7.2", "7.3", "7.4", "7.5", "7.6", "2025-07-01"])),
  /** Azure Stack Hub: its challenge names a resource outside the vault's domain. */
  STOWAGE_KEY_VAULT_DISABLE_CHALLENGE_RESOURCE_VERIFICATION: z._default(bool, false),
  /** Where secrets are kept without Key Vault (default: `<STOWAGE_DATA_DIR>/secrets`). */
  STOWAGE_SECRETS_DIR: z.optional(nonEmpty),
  /** Prefix of the secret names (`<prefix>-signing-key`, `<prefix>-admin-password`). */
  STOWAGE_SECRET_PREFIX: z._default(matching(/^[0-9a-zA-Z-]{1,64}$/, "letters, digits and -"), "stowage"),
});

export type Settings = z.infer<typeof schema>;

/** The name of every setting (deployment templates are checked against it). */
export const settingNames: readonly string[] = Object.keys(schema.shape);
