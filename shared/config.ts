import { z } from "zod";

const bool = z
  .enum(["true", "false", "1", "0", "yes", "no"])
  .transform((v) => v === "true" || v === "1" || v === "yes");
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const MiB = 1024 * 1024;

/**
 * Every setting, read from environment variables (Azure app settings, local.settings.json
 * `Values`, or the shell). Parsed once per process; a bad value stops start-up with a message
 * that names the variable.
 */
const schema = z.object({
  PORT: int(0, 65535).default(5000),
  HOST: z.string().min(1).default("127.0.0.1"),
  /** Data directory for the embedded Azurite (used only when no connection string is set). */
  STOWAGE_DATA_DIR: z.string().min(1).default(".stowage"),
  /** Azure Storage connection string; when unset, `npm start` runs an embedded Azurite. */
  STOWAGE_STORAGE_CONNECTION_STRING: z.string().min(1).optional(),
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
  STOWAGE_MAX_PAGE_SIZE: int(1, 10_000).default(1000),
  /** Largest request body a client should send in one chunk (advertised as OCI-Chunk-Max-Length). */
  STOWAGE_CHUNK_MAX_BYTES: int(0, Number.MAX_SAFE_INTEGER).optional(),
  /** Allow DELETE of manifests, tags and blobs (answered 405 UNSUPPORTED when off). */
  STOWAGE_DELETE_ENABLED: bool.default(true),
  /** Mount a blob already anywhere in the registry when a client names it without `from`. */
  STOWAGE_AUTO_MOUNT: bool.default(false),
  /** Seconds an upload may stay unfinished before it is forgotten (default one day). */
  STOWAGE_UPLOAD_TTL_SECONDS: int(1, 30 * 86_400).default(86_400),
});

export type Settings = z.infer<typeof schema>;

export interface Config {
  port: number;
  host: string;
  dataDir: string;
  connectionString: string | undefined;
  container: string;
  tablePrefix: string;
  blobRedirect: boolean;
  redirectTtlSeconds: number;
  blockSize: number;
  concurrency: number;
  maxManifestBytes: number;
  maxPageSize: number;
  chunkMaxBytes: number | undefined;
  deleteEnabled: boolean;
  autoMount: boolean;
  uploadTtlMs: number;
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
  return {
    port: s.PORT,
    host: s.HOST,
    dataDir: s.STOWAGE_DATA_DIR,
    connectionString: s.STOWAGE_STORAGE_CONNECTION_STRING,
    container: s.STOWAGE_CONTAINER,
    tablePrefix: s.STOWAGE_TABLE_PREFIX,
    blobRedirect: s.STOWAGE_BLOB_REDIRECT,
    redirectTtlSeconds: s.STOWAGE_BLOB_REDIRECT_TTL_SECONDS,
    blockSize: s.STOWAGE_BLOCK_SIZE_MIB * MiB,
    concurrency: s.STOWAGE_UPLOAD_CONCURRENCY,
    maxManifestBytes: s.STOWAGE_MAX_MANIFEST_BYTES,
    maxPageSize: s.STOWAGE_MAX_PAGE_SIZE,
    chunkMaxBytes: s.STOWAGE_CHUNK_MAX_BYTES,
    deleteEnabled: s.STOWAGE_DELETE_ENABLED,
    autoMount: s.STOWAGE_AUTO_MOUNT,
    uploadTtlMs: s.STOWAGE_UPLOAD_TTL_SECONDS * 1000,
  };
}
