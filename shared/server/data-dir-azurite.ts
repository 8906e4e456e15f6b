import { connect } from "node:net";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { startAzurite, type AzuriteInstance } from "./azurite.js";

/**
 * The embedded Azurite that keeps its data in the data directory. Azurite holds that data in
 * memory and writes it back itself, so two Azurites on one directory would overwrite each
 * other: whoever starts one records it in `<dataDir>/azurite.json` (pid and connection
 * string, whose key is Azurite's public development key), and the CLI uses a running one
 * rather than starting its own.
 */
const STATE_FILE = "azurite.json";

interface State {
  pid: number;
  connectionString: string;
  tablePort: number;
}

export function azuriteLocation(dataDir: string): string {
  return join(resolve(dataDir), "azurite");
}

/** The connection string of an Azurite already serving this data directory, if one is. */
export async function runningAzurite(dataDir: string): Promise<string | undefined> {
  return (await runningState(dataDir))?.connectionString;
}

async function runningState(dataDir: string): Promise<State | undefined> {
  let state: State;
  try {
    state = JSON.parse(await readFile(join(resolve(dataDir), STATE_FILE), "utf8")) as State;
  } catch {
    return undefined;
  }
  return isAlive(state.pid) && (await isOpen(state.tablePort)) ? state : undefined;
}

/** Starts Azurite on the data directory; refuses while another one serves it. */
export async function startDataDirAzurite(dataDir: string): Promise<AzuriteInstance> {
  const running = await runningState(dataDir);
  if (running) {
    throw new Error(`another Azurite (pid ${running.pid}) already serves ${resolve(dataDir)}: stop it first`);
  }
  const azurite = await startAzurite({ location: azuriteLocation(dataDir) });
  const file = join(resolve(dataDir), STATE_FILE);
  const state: State = { pid: azurite.pid, connectionString: azurite.connectionString, tablePort: azurite.ports.table };
  await writeFile(file, JSON.stringify(state), { mode: 0o600 });
  return {
    ...azurite,
    async stop() {
      await azurite.stop();
      await rm(file, { force: true });
    },
  };
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
