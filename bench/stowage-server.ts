import { mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { BENCH_ADMIN_PASSWORD, registerCredentials } from "./credentials.js";
import { freePort } from "../shared/server/azurite.js";
import { startChild } from "./child-process.js";
import { waitUntilServing, type Target } from "./target.js";

/** The bundled server entry `npm start` runs (dist/bench/ -> dist/server.mjs; see the bundle script). */
const MAIN = fileURLToPath(new URL("../server.mjs", import.meta.url));

export interface StowageOptions {
  connectionString: string;
  container: string;
  tablePrefix: string;
  /** Run the server with --cpu-prof, writing the profile here when it stops. */
  cpuProfDir?: string | undefined;
  /** Extra STOWAGE_* settings (e.g. STOWAGE_BLOB_REDIRECT). */
  env?: Record<string, string>;
}

/**
 * `node dist/server.mjs` (the bundled server) on a free loopback port against an existing storage
 * account (so it starts no Azurite of its own), access log off as in production defaults.
 */
export async function startStowage(options: StowageOptions, name = "stowage"): Promise<Target> {
  const port = await freePort("127.0.0.1");
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    // the shell's own registry settings must not leak into the measured server
    if (!key.startsWith("STOWAGE_") && !key.startsWith("BENCH_") && key !== "PORT" && key !== "HOST") env[key] = value;
  }
  Object.assign(env, {
    PORT: String(port),
    HOST: "127.0.0.1",
    STOWAGE_STORAGE_CONNECTION_STRING: options.connectionString,
    STOWAGE_CONTAINER: options.container,
    STOWAGE_TABLE_PREFIX: options.tablePrefix,
    STOWAGE_ACCESS_LOG: "false",
    STOWAGE_ADMIN_PASSWORD: BENCH_ADMIN_PASSWORD,
    STOWAGE_TOKEN_TTL_SECONDS: "3600",
    STOWAGE_SECRETS_DIR: join(tmpdir(), `stowage-bench-secrets-${options.tablePrefix}`),
    ...options.env,
  });
  // V8 flags to try on the measured server only (e.g. --max-semi-space-size=2), not on Azurite or the bench
  if (process.env.BENCH_SERVER_NODE_OPTIONS) env.NODE_OPTIONS = process.env.BENCH_SERVER_NODE_OPTIONS;
  const args = [MAIN];
  if (options.cpuProfDir) {
    mkdirSync(options.cpuProfDir, { recursive: true });
    args.unshift("--cpu-prof", "--cpu-prof-dir", options.cpuProfDir);
  }
  const child = await startChild(name, process.execPath, args, env);
  const url = `http://127.0.0.1:${port}`;
  try {
    const startMs = await waitUntilServing(child, url, name);
    registerCredentials(url, "admin", BENCH_ADMIN_PASSWORD);
    return { name: "stowage", url, pid: child.pid, startMs, child };
  } catch (error) {
    await child.stop();
    throw error;
  }
}
