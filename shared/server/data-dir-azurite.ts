import { connect } from "node:net";
import { chmod, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { startAzurite, type AzuriteInstance } from "./azurite.js";

/**
 * The embedded Azurite that keeps its data in the data directory. Azurite holds that data in
 * memory and writes it back itself (every 5 s, and when stopped with a signal), so two
 * Azurites on one directory would overwrite each other: whoever starts one records it in
 * `<dataDir>/azurite.json` (its pid, the owning process's pid and the connection string,
 * whose key is Azurite's public development key), and the CLI uses a running one rather than
 * starting its own.
 *
 * Crashes: an Azurite whose owner died (`kill -9` of the server) is an orphan; the next start
 * stops it with SIGTERM, so it writes its data back, and starts a fresh one. While the owner
 * runs, an Azurite that dies is restarted on the same ports (the connection string the
 * storage clients hold stays valid); if it keeps dying, `onGiveUp` is called so the process
 * can exit non-zero and let its supervisor restart both.
 */
const STATE_FILE = "azurite.json";
/** Restarts allowed within RESTART_WINDOW_MS before giving up. */
const MAX_RESTARTS = 5;
const RESTART_WINDOW_MS = 60_000;
const ORPHAN_STOP_MS = 10_000;

interface State {
  pid: number;
  /** The process that started it and stops it; absent in files written by older versions. */
  owner?: number;
  connectionString: string;
  tablePort: number;
}

export interface DataDirAzuriteOptions {
  /** Called once when Azurite cannot be kept running (it died too often, or could not restart). */
  onGiveUp?: (reason: string) => void;
  /** Runs after each restart: storage written in Azurite's last seconds may be gone (tables, queues). */
  onRestart?: () => Promise<void>;
  /** Where restarts are reported. */
  log?: (line: string) => void;
}

export function azuriteLocation(dataDir: string): string {
  return join(resolve(dataDir), "azurite");
}

/** The connection string of an Azurite already serving this data directory, if one is. */
export async function runningAzurite(dataDir: string): Promise<string | undefined> {
  return (await runningState(dataDir))?.connectionString;
}

async function readState(dataDir: string): Promise<State | undefined> {
  try {
    return JSON.parse(await readFile(join(resolve(dataDir), STATE_FILE), "utf8")) as State;
  } catch {
    return undefined;
  }
}

async function runningState(dataDir: string): Promise<State | undefined> {
  const state = await readState(dataDir);
  return state && isAlive(state.pid) && (await isOpen(state.tablePort)) ? state : undefined;
}

/**
 * Starts Azurite on the data directory, supervised; refuses while a live process owns another
 * one there, and stops an orphaned one first. The directory is private to this user (0700):
 * it holds password hashes, webhook secrets and signing keys.
 */
export async function startDataDirAzurite(
  dataDir: string,
  options: DataDirAzuriteOptions = {},
): Promise<AzuriteInstance> {
  const log = options.log ?? (() => undefined);
  const root = resolve(dataDir);
  const location = azuriteLocation(dataDir);
  await mkdir(location, { recursive: true, mode: 0o700 });
  await Promise.all([chmod(root, 0o700), chmod(location, 0o700)]);
  await stopOrphan(dataDir, log);

  const file = join(root, STATE_FILE);
  const launch = async (ports?: AzuriteInstance["ports"]) => {
    const started = await startAzurite({ location, umask: 0o077, ...(ports ? { ports } : {}) });
    const state: State = {
      pid: started.pid,
      owner: process.pid,
      connectionString: started.connectionString,
      tablePort: started.ports.table,
    };
    await writeFile(file, JSON.stringify(state), { mode: 0o600 });
    return started;
  };

  let current = await launch();
  let stopping = false;
  const restarts: number[] = [];
  const supervise = (instance: AzuriteInstance) => {
    void instance.exited.then(async () => {
      if (stopping) return;
      const now = Date.now();
      restarts.push(now);
      while ((restarts[0] ?? now) < now - RESTART_WINDOW_MS) restarts.shift();
      if (restarts.length > MAX_RESTARTS) {
        options.onGiveUp?.(`embedded Azurite died ${restarts.length} times within a minute`);
        return;
      }
      log(`embedded Azurite (pid ${instance.pid}) exited unexpectedly: restarting it on the same ports`);
      try {
        current = await launch(instance.ports);
        supervise(current);
        await options.onRestart?.();
      } catch (error) {
        options.onGiveUp?.(`embedded Azurite could not be restarted: ${(error as Error).message}`);
      }
    });
  };
  supervise(current);

  return {
    connectionString: current.connectionString,
    ports: current.ports,
    get pid() {
      return current.pid;
    },
    get exited() {
      return current.exited;
    },
    async stop() {
      stopping = true;
      await current.stop();
      // a newer owner may have taken the directory over meanwhile: its state is not ours to delete
      if ((await readState(dataDir))?.owner === process.pid) await rm(file, { force: true });
    },
  };
}

/** Refuses if a live process owns an Azurite on the directory; stops one whose owner is gone. */
async function stopOrphan(dataDir: string, log: (line: string) => void): Promise<void> {
  const running = await runningState(dataDir);
  if (!running) return;
  if (running.owner === undefined || isAlive(running.owner)) {
    const owner = running.owner === undefined ? "" : ` for pid ${running.owner}`;
    throw new Error(`another Azurite (pid ${running.pid}${owner}) already serves ${resolve(dataDir)}: stop it first`);
  }
  log(`stopping the embedded Azurite (pid ${running.pid}) left running by a process that died (pid ${running.owner})`);
  process.kill(running.pid, "SIGTERM"); // a signal makes Azurite write its data back before it exits
  const deadline = Date.now() + ORPHAN_STOP_MS;
  while (isAlive(running.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(running.pid)) process.kill(running.pid, "SIGKILL");
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0); // signal 0: only asks whether the process exists
    return true;
  } catch {
    return false;
  }
}

function isOpen(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => (socket.destroy(), done(true)));
    socket.once("error", () => done(false));
  });
}
