import { spawn } from "node:child_process";
import { trackProcess } from "./lifecycle.js";
import { now } from "./timing.js";

const OUTPUT_LIMIT = 32 * 1024;

/** A long-running child (a registry server), tracked so it is stopped by PID whatever happens. */
export interface Child {
  pid: number;
  /** process.hrtime.bigint() just before spawn(), for start-up timing. */
  spawnedAt: bigint;
  running(): boolean;
  /** The last 32 KiB of stdout and stderr, for failure messages. */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal) once the child has exited. */
  exited: Promise<number | null>;
  /** SIGTERM by PID, SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

export async function startChild(
  name: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<Child> {
  const spawnedAt = now();
  const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  if (child.pid === undefined) {
    const error = await new Promise<Error>((resolve) => child.once("error", resolve));
    throw new Error(`could not start ${name}: ${error.message}`);
  }
  const pid = child.pid;
  let output = "";
  const capture = (data: Buffer) => {
    output += data.toString();
    if (output.length > OUTPUT_LIMIT) output = output.slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on("data", capture);
  child.stderr?.on("data", capture);
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const running = () => child.exitCode === null && child.signalCode === null;

  const stop = async (graceMs = 5000) => {
    if (running()) {
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        // already gone
      }
      const timer = setTimeout(() => {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // exited in the meantime
        }
      }, graceMs);
      await exited;
      clearTimeout(timer);
    }
    forget();
  };
  const forget = trackProcess(name, pid, stop);
  void exited.then(() => forget());
  return { pid, spawnedAt, running, output: () => output, exited, stop };
}
