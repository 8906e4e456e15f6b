import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * Everything the benchmark starts or creates, so it can all be undone on exit, on failure and
 * on Ctrl-C: processes are stopped by PID (never by name), temporary directories removed.
 */
interface Tracked {
  name: string;
  pid: number;
  stop(): Promise<void>;
}

const processes = new Map<number, Tracked>();
const directories = new Set<string>();

/** Registers a started process; returns a function that forgets it (once it has stopped). */
export function trackProcess(name: string, pid: number, stop: () => Promise<void>): () => void {
  processes.set(pid, { name, pid, stop });
  return () => void processes.delete(pid);
}

/** A fresh temporary directory, removed when the benchmark ends. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `stowage-bench-${prefix}-`));
  directories.add(dir);
  return dir;
}

/** Removes a temporary directory now (e.g. to free disk between phases). */
export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  directories.delete(dir);
}

function killNow(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** Stops every tracked process (latest first, each bounded in time) and removes temp dirs. */
export async function cleanupAll(): Promise<void> {
  const list = [...processes.values()].reverse();
  for (const tracked of list) {
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, 10_000).unref());
    await Promise.race([tracked.stop().catch(() => undefined), timeout]);
    killNow(tracked.pid); // no-op when it has exited
    processes.delete(tracked.pid);
  }
  for (const dir of [...directories]) removeTempDir(dir);
}

let installed = false;

/**
 * Ctrl-C / SIGTERM: stop everything, then exit. On any exit (even an uncaught error) whatever
 * is still tracked is killed by PID and the temp dirs are removed synchronously.
 */
export function installExitHandlers(): void {
  if (installed) return;
  installed = true;
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals, code: number) => {
    if (stopping) return;
    stopping = true;
    console.error(`\n${signal}: stopping ${processes.size} process(es) and exiting`);
    void cleanupAll().finally(() => process.exit(code));
  };
  process.on("SIGINT", () => onSignal("SIGINT", 130));
  process.on("SIGTERM", () => onSignal("SIGTERM", 143));
  process.on("exit", () => {
    for (const { pid } of processes.values()) killNow(pid);
    for (const dir of directories) rmSync(dir, { recursive: true, force: true });
  });
}
