import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { createServer, connect } from "node:net";
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
}

/**
 * Starts Azurite, the real Azure Storage emulator, as a child process on free loopback ports.
 * Telemetry is always off: it would call an external host.
 */
export async function startAzurite(options: AzuriteOptions = {}): Promise<AzuriteInstance> {
  const host = options.host ?? "127.0.0.1";
  const [blob, queue, table] = [await freePort(host), await freePort(host), await freePort(host)];
  const args = [
    azuriteEntry(),
    "--silent",
    "--disableTelemetry",
    "--skipApiVersionCheck",
    "--blobHost",
    host,
    "--blobPort",
    String(blob),
    "--queueHost",
    host,
    "--queuePort",
    String(queue),
    "--tableHost",
    host,
    "--tablePort",
    String(table),
  ];
  if (options.location) {
    mkdirSync(options.location, { recursive: true });
    args.push("--location", options.location);
  } else {
    args.push("--inMemoryPersistence");
  }
  const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    await Promise.race([
      Promise.all([blob, queue, table].map((port) => waitForPort(host, port))),
      exited.then(() => Promise.reject(new Error(`Azurite exited during start-up: ${stderr.trim()}`))),
    ]);
  } catch (error) {
    child.kill();
    throw error;
  }
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

async function waitForPort(host: string, port: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, host);
      socket.once("connect", () => (socket.destroy(), resolve(true)));
      socket.once("error", () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`Azurite did not open port ${port} within ${timeoutMs} ms`);
}
