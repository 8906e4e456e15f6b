import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer } from "node:net";
import { dirname, join } from "node:path";

/** Azurite's well-known development account (public, documented; not a secret). */
const ACCOUNT = "devstoreaccount1";
const ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

export interface AzuriteInstance {
  connectionString: string;
  ports: { blob: number; queue: number; table: number };
  pid: number;
  /** Settles when the process has exited, whoever ended it. */
  exited: Promise<void>;
  stop(): Promise<void>;
}

export interface AzuriteOptions {
  /** Keep data in this directory; omit for in-memory storage (tests). */
  location?: string;
  host?: string;
  /** Bind these ports (a restart keeps the connection string clients already hold); free ones when omitted. */
  ports?: { blob: number; queue: number; table: number };
  /** File mode mask for what Azurite creates (the data directory holds password hashes and secrets). */
  umask?: number;
}

/**
 * Starts Azurite, the real Azure Storage emulator, as a child process on free loopback ports.
 * Telemetry is always off: it would call an external host.
 */
export async function startAzurite(options: AzuriteOptions = {}): Promise<AzuriteInstance> {
  const host = options.host ?? "127.0.0.1";
  // Port 0: Azurite binds free ports itself and names them; picking ports first and passing
  // them in races with every other process choosing ports at the same moment.
  const args = [azuriteEntry(), "--silent", "--disableTelemetry", "--skipApiVersionCheck"];
  for (const service of ["blob", "queue", "table"] as const)
    args.push(`--${service}Host`, host, `--${service}Port`, String(options.ports?.[service] ?? 0));
  if (options.location) {
    mkdirSync(options.location, { recursive: true });
    args.push("--location", options.location);
  } else {
    args.push("--inMemoryPersistence");
  }
  // With data on disk its output goes to a file, not a pipe to this process: an Azurite that
  // outlives a killed server would die of EPIPE on its next line (before writing its data back).
  const logFile = options.location ? join(options.location, "azurite.log") : undefined;
  const out = logFile ? openSync(logFile, "w", 0o600) : "pipe";
  const child = spawnWithUmask(options.umask, () => spawn(process.execPath, args, { stdio: ["ignore", out, out] }));
  if (typeof out === "number") closeSync(out);
  let piped = "";
  const capture = (d: Buffer) => (piped = (piped + d.toString()).slice(-8000));
  child.stdout?.on("data", capture);
  child.stderr?.on("data", capture);
  const output = () => (logFile ? readTail(logFile) : piped);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let ports: Record<"blob" | "queue" | "table", number>;
  const waiting = { up: false };
  try {
    ports = await Promise.race([
      listeningPorts(output, waiting),
      exited.then(() => Promise.reject(new Error(`Azurite exited during start-up: ${output().trim()}`))),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error("Azurite did not start within 30 s")), 30_000).unref(),
      ),
    ]);
  } catch (error) {
    child.kill();
    throw error;
  } finally {
    waiting.up = true; // stops the polling whichever way the race went
  }
  const { blob, queue, table } = ports;
  const endpoint = (port: number) => `http://${host}:${port}/${ACCOUNT}`;
  return {
    connectionString:
      `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT};AccountKey=${ACCOUNT_KEY};` +
      `BlobEndpoint=${endpoint(blob)};QueueEndpoint=${endpoint(queue)};TableEndpoint=${endpoint(table)};`,
    ports: { blob, queue, table },
    pid: child.pid as number,
    exited,
    stop: () => stopChild(child, exited),
  };
}

/** A child inherits the umask at spawn: set it for that moment only. */
function spawnWithUmask<T>(mask: number | undefined, start: () => T): T {
  if (mask === undefined) return start();
  const previous = process.umask(mask);
  try {
    return start();
  } finally {
    process.umask(previous);
  }
}

function azuriteEntry(): string {
  const require = createRequire(import.meta.url);
  try {
    return join(dirname(require.resolve("azurite/package.json")), "dist", "src", "azurite.js");
  } catch {
    throw new Error("Azurite is not installed (run `npm ci`), and no STOWAGE_STORAGE_CONNECTION_STRING is set");
  }
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

export function freePort(host = "127.0.0.1"): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, host, () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Reads "Azurite Blob service is successfully listening at http://host:PORT" for each service. */
async function listeningPorts(
  output: () => string,
  given: { up: boolean },
): Promise<Record<"blob" | "queue" | "table", number>> {
  while (!given.up) {
    const found: Partial<Record<"blob" | "queue" | "table", number>> = {};
    for (const match of output().matchAll(
      /Azurite (Blob|Queue|Table) service is successfully listening at \S+:(\d+)/g,
    )) {
      found[(match[1] as string).toLowerCase() as "blob" | "queue" | "table"] = Number(match[2]);
    }
    if (found.blob && found.queue && found.table) return found as Record<"blob" | "queue" | "table", number>;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error("start-up abandoned");
}

function readTail(file: string): string {
  try {
    return readFileSync(file, "utf8").slice(-8000);
  } catch {
    return "";
  }
}
