import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, closeSync, constants, openSync, readFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import type { TestContext } from "node:test";

/** Directories where Debian puts daemons; root's PATH usually has them, a CI shell may not. */
const SBIN = ["/usr/local/sbin", "/usr/sbin", "/sbin"];

/** PATH for client processes: the inherited one plus the sbin directories. */
export function searchPath(): string {
  const parts = (process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin").split(delimiter).filter(Boolean);
  for (const dir of SBIN) if (!parts.includes(dir)) parts.push(dir);
  return parts.join(delimiter);
}

/** The full path of an executable on the search path, or undefined. */
export function which(binary: string): string | undefined {
  for (const dir of searchPath().split(delimiter)) {
    const candidate = join(dir, binary);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

// Whatever is still running when the test process exits is killed by PID.
const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of live) {
    try {
      if (child.pid !== undefined) process.kill(child.pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
});

/** Kills `child` by PID if the test process exits first; resolves when it has exited. */
export function track(child: ChildProcess): Promise<void> {
  live.add(child);
  return new Promise((resolve) =>
    child.once("close", () => {
      live.delete(child);
      resolve();
    }),
  );
}

function tail(text: string, max = 3000): string {
  return text.length > max ? `...${text.slice(-max)}` : text;
}

export interface RunOptions {
  env?: Record<string, string>;
  timeoutMs?: number;
  cwd?: string;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to completion with a bounded time; rejects with its output when it fails or
 * times out (then it is killed by PID).
 */
export function run(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? 120_000;
  const label = `${command} ${args.join(" ")}`;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: options.env, cwd: options.cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    let spawnError: Error | undefined;
    child.stdout?.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    child.once("error", (error) => (spawnError = error));
    const timer = setTimeout(() => {
      timedOut = true;
      if (child.pid !== undefined) {
        try {
          process.kill(child.pid, "SIGKILL");
        } catch {
          // exited meanwhile
        }
      }
    }, timeoutMs);
    const closed = child.pid !== undefined ? track(child) : new Promise<void>((r) => child.once("close", () => r()));
    void closed.then(() => {
      clearTimeout(timer);
      const output = `\n--- stderr ---\n${tail(stderr)}\n--- stdout ---\n${tail(stdout)}`;
      if (spawnError) reject(new Error(`${label}: ${spawnError.message}`));
      else if (timedOut) reject(new Error(`${label}: timed out after ${timeoutMs} ms${output}`));
      else if (child.exitCode !== 0)
        reject(new Error(`${label}: exited with ${child.exitCode ?? child.signalCode}${output}`));
      else resolve({ stdout, stderr });
    });
  });
}

export interface Daemon {
  name: string;
  pid: number;
  logFile: string;
  running(): boolean;
  /** The last part of the daemon's log. */
  log(): string;
  /** SIGTERM by PID, SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts a long-running process with its output in `logFile`. */
export function startDaemon(
  name: string,
  command: string,
  args: string[],
  options: { env?: Record<string, string>; logFile: string },
): Daemon {
  const fd = openSync(options.logFile, "a");
  let child: ChildProcess;
  try {
    child = spawn(command, args, { env: options.env, stdio: ["ignore", fd, fd] });
  } finally {
    closeSync(fd);
  }
  if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`);
  const pid = child.pid;
  const closed = track(child);
  const running = () => child.exitCode === null && child.signalCode === null;
  const log = () => {
    try {
      return tail(readFileSync(options.logFile, "utf8"));
    } catch {
      return "";
    }
  };
  return {
    name,
    pid,
    logFile: options.logFile,
    running,
    log,
    async stop(graceMs = 20_000) {
      if (!running()) return;
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        return;
      }
      const timer = setTimeout(() => {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // exited meanwhile
        }
      }, graceMs);
      await closed;
      clearTimeout(timer);
    },
  };
}

/**
 * Polls `probe` until it succeeds, the daemon exits, or the time is up; the error then carries
 * the daemon's log.
 */
export async function waitForDaemon(daemon: Daemon, probe: () => Promise<unknown>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  for (;;) {
    if (!daemon.running())
      throw new Error(`${daemon.name} exited during start-up\n--- ${daemon.name} log ---\n${daemon.log()}`);
    try {
      await probe();
      return;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (Date.now() > deadline) {
      throw new Error(
        `${daemon.name} did not become ready within ${timeoutMs} ms: ${last}\n--- ${daemon.name} log ---\n${daemon.log()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/**
 * Under CI (CI=true) every real client must be installed: .ci/run installs them all, so a
 * missing one there is a broken CI image.
 */
export const CI = process.env.CI !== undefined && process.env.CI !== "" && !/^(false|0|no)$/i.test(process.env.CI);

/** Returns false (and marks the test skipped) when a binary is missing outside CI; fails under CI. */
export function requireBinaries(t: TestContext, ...binaries: string[]): boolean {
  const missing = binaries.filter((binary) => !which(binary));
  if (missing.length === 0) return true;
  const message = `missing binary: ${missing.join(", ")} (install: apt-get install -y --no-install-recommends skopeo podman docker.io containerd)`;
  if (CI) assert.fail(`${message}; CI is set, so every real client must be installed`);
  t.skip(message);
  return false;
}
