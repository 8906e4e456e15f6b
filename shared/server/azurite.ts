import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
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
  stop(): Promise<void>;
}

export interface AzuriteOptions {
  /** Keep data in this directory; omit for in-memory storage (tests). */
  location?: string;
  host?: string;
  /** Listen on these ports instead of free ones (a restart where clients already point). */
  ports?: { blob: number; queue: number; table: number };
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
  const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let ports: Record<"blob" | "queue" | "table", number>;
  try {
    ports = await Promise.race([
      listeningPorts(child),
      exited.then(() => Promise.reject(new Error(`Azurite exited during start-up: ${stderr.trim()}`))),
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error("Azurite did not start within 30 s")), 30_000).unref(),
      ),
    ]);
  } catch (error) {
    child.kill();
    throw error;
  }
  child.stdout?.resume(); // keep draining what it prints later
  const { blob, queue, table } = ports;
  const endpoint = (port: number) => `http://${host}:${port}/${ACCOUNT}`;
  return {
    connectionString:
      `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT};AccountKey=${ACCOUNT_KEY};` +
      `BlobEndpoint=${endpoint(blob)};QueueEndpoint=${endpoint(queue)};TableEndpoint=${endpoint(table)};`,
    ports: { blob, queue, table },
    pid: child.pid as number,
    stop: () => stopChild(child, exited),
  };
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
function listeningPorts(child: ChildProcess): Promise<Record<"blob" | "queue" | "table", number>> {
  return new Promise((resolve) => {
    const found: Partial<Record<"blob" | "queue" | "table", number>> = {};
    let buffered = "";
    const onData = (data: Buffer) => {
      buffered += data.toString();
      for (const match of buffered.matchAll(
        /Azurite (Blob|Queue|Table) service is successfully listening at \S+:(\d+)/g,
      )) {
        found[(match[1] as string).toLowerCase() as "blob" | "queue" | "table"] = Number(match[2]);
      }
      if (found.blob && found.queue && found.table) {
        child.stdout?.off("data", onData);
        resolve(found as Record<"blob" | "queue" | "table", number>);
      }
    };
    child.stdout?.on("data", onData);
  });
}
