import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { httpsRequest } from "../helpers/https-get.js";
import { track } from "./processes.js";

/** The compiled server entry, next to this file's compiled copy (dist/test/e2e -> dist/shared). */
const MAIN = fileURLToPath(new URL("../../shared/server/main.js", import.meta.url));
const OUTPUT_LIMIT = 64 * 1024;

export interface ServerProcessOptions {
  /** Azure Storage connection string (an Azurite started by the suite); omitted: the server's embedded Azurite in `dataDir`. */
  connectionString?: string;
  /** Blob container; random when omitted. Give two servers the same one to share state. */
  container?: string;
  /** Table prefix; random when omitted. */
  tablePrefix?: string;
  /** Extra environment variables for the server (STOWAGE_*). */
  env?: Record<string, string>;
  /** Password of the `admin` user it creates on first start; random when omitted. */
  adminPassword?: string;
  /**
   * Its data directory (the local signing keys live in `<dir>/secrets`); a fresh temporary
   * one when omitted. Servers that share storage must share it too, as they would share a Key Vault.
   */
  dataDir?: string;
  /**
   * The root CA (PEM) that verifies the server's certificate, when `env` turns TLS on
   * (STOWAGE_TLS_*): the probes and `token()` then speak HTTPS and trust only it.
   */
  ca?: string;
  /** How long to wait for GET /v2/ to answer. */
  startTimeoutMs?: number;
}

export interface ServerProcess {
  /** `http://127.0.0.1:PORT`, or `https://` with TLS */
  url: string;
  /** `127.0.0.1:PORT`, the registry host as clients name it. */
  host: string;
  port: number;
  /** The child's PID (e.g. to sample its RSS from /proc/PID/status). */
  pid: number;
  container: string;
  tablePrefix: string;
  /** The `admin` user's password (STOWAGE_ADMIN_PASSWORD). */
  adminPassword: string;
  /** An access token for `admin` from the server's /token, with these scopes. */
  token(scopes: string[]): Promise<string>;
  /** The last 64 KiB of the child's stdout and stderr, interleaved, for failure messages. */
  output(): string;
  /** True while the child runs. */
  running(): boolean;
  /** SIGTERM by PID, SIGKILL after a grace period; resolves once the child has exited. */
  stop(): Promise<void>;
}

/** A random container name and table prefix no other suite uses. */
export function isolatedNames(): { container: string; tablePrefix: string } {
  const id = randomBytes(5).toString("hex");
  return { container: `e2e-${id}`, tablePrefix: `e2e${id}` };
}

/**
 * Starts `node dist/shared/server/main.js` on a free loopback port against the given storage,
 * with its own container and tables unless told to share them, and waits until GET /v2/
 * answers. The access log is on so failures can show what the server saw.
 */
export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const names = isolatedNames();
  const container = options.container ?? names.container;
  const tablePrefix = options.tablePrefix ?? names.tablePrefix;
  const adminPassword = options.adminPassword ?? randomBytes(12).toString("base64url");
  const ownDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), "stw-server-")));
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    // the parent's own registry settings must not leak into the child
    if (value !== undefined && !key.startsWith("STOWAGE_") && key !== "PORT" && key !== "HOST") env[key] = value;
  }
  Object.assign(env, {
    PORT: "0", // the server binds a free port and prints it: no race with other port pickers
    HOST: "127.0.0.1",
    ...(options.connectionString ? { STOWAGE_STORAGE_CONNECTION_STRING: options.connectionString } : {}),
    STOWAGE_CONTAINER: container,
    STOWAGE_TABLE_PREFIX: tablePrefix,
    STOWAGE_ADMIN_PASSWORD: adminPassword,
    STOWAGE_DATA_DIR: dataDir,
    STOWAGE_ACCESS_LOG: "true",
    ...options.env,
  });

  const child = spawn(process.execPath, [MAIN], { env, stdio: ["ignore", "pipe", "pipe"] });
  if (child.pid === undefined) {
    const error = await new Promise<Error>((resolve) => child.once("error", resolve));
    throw new Error(`could not start the server: ${error.message}`);
  }
  const exited = track(child);
  const pid = child.pid;
  let output = "";
  const capture = (data: Buffer) => {
    output += data.toString();
    if (output.length > OUTPUT_LIMIT) output = output.slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on("data", capture);
  child.stderr?.on("data", capture);
  const running = () => child.exitCode === null && child.signalCode === null;

  const stop = async () => {
    if (!running()) return;
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      return; // already gone
    }
    const timer = setTimeout(() => {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // exited in the meantime
      }
    }, 5000);
    await exited;
    clearTimeout(timer);
    if (ownDataDir) await rm(dataDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (options.startTimeoutMs ?? 30_000);
  let lastError = "";
  let port = 0;
  let url = "";
  try {
    for (;;) {
      if (!running())
        throw new Error(`server exited during start-up (code ${child.exitCode}, signal ${child.signalCode})`);
      const listening = /Stowage listening on https?:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (!listening) {
        lastError = "not listening yet";
        if (Date.now() > deadline) throw new Error(`server did not start listening in time`);
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      port = Number(listening[1]);
      url = `${options.ca === undefined ? "http" : "https"}://127.0.0.1:${port}`;
      try {
        const status = await getStatus(`${url}/v2/`, options.ca);
        if (status === 200 || status === 401) break;
        lastError = `GET /v2/ answered ${status}`;
      } catch (error) {
        lastError = error instanceof Error ? error.message : String(error);
      }
      if (Date.now() > deadline) throw new Error(`server did not answer GET /v2/ in time (${lastError})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n--- server output ---\n${output}`);
  }

  return {
    url,
    host: `127.0.0.1:${port}`,
    port,
    pid,
    container,
    tablePrefix,
    adminPassword,
    token: (scopes) => adminToken(url, adminPassword, scopes, options.ca),
    output: () => output,
    running,
    stop,
  };
}

async function getStatus(url: string, ca: string | undefined): Promise<number> {
  if (ca !== undefined) return (await httpsRequest(url, { ca, timeoutMs: 2000 })).status;
  const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
  await response.arrayBuffer();
  return response.status;
}

/** GET /token with the admin's Basic credentials, as skopeo or podman would (over HTTPS when `ca` is given). */
export async function adminToken(url: string, password: string, scopes: string[], ca?: string): Promise<string> {
  const query = scopes.map((scope) => `scope=${encodeURIComponent(scope)}`).join("&");
  const headers = { authorization: `Basic ${Buffer.from(`admin:${password}`).toString("base64")}` };
  const { status, body } =
    ca !== undefined
      ? await httpsRequest(`${url}/token?${query}`, { headers, ca })
      : await fetch(`${url}/token?${query}`, { headers }).then(async (r) => ({
          status: r.status,
          body: await r.text(),
        }));
  if (status !== 200) throw new Error(`GET /token answered ${status}: ${body}`);
  return (JSON.parse(body) as { token: string }).token;
}

/** How many tokens the server issued through the OAuth2 POST form (containerd's way), from its request log. */
export function tokenPostsIn(output: string): number {
  return (output.match(/"method":"POST","route":"\/token","status":200/g) ?? []).length;
}
