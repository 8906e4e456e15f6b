import { findExecutable } from "./executables.js";
import { startChild } from "./child-process.js";
import { assertLoopback } from "./http.js";

/** wrk (C, epoll) as a second load generator for GETs: lighter on the CPU than a Node client. wrk cannot send HEAD. */
const CANDIDATES = ["/usr/bin/wrk", "/usr/local/bin/wrk"];

export function findWrk(): string | undefined {
  return findExecutable(CANDIDATES);
}

export interface WrkResult {
  tool: "wrk";
  method: "GET";
  connections: number;
  seconds: number;
  requests: number;
  errors: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
}

function toMs(value: string, unit: string): number {
  const n = Number(value);
  if (unit === "us") return n / 1000;
  if (unit === "s") return n * 1000;
  if (unit === "m") return n * 60_000;
  return n; // ms
}

export function parseWrk(output: string, connections: number): WrkResult {
  const rps = /Requests\/sec:\s+([\d.]+)/.exec(output);
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m)/.exec(output);
  const p50 = /^\s+50%\s+([\d.]+)(us|ms|s|m)\s*$/m.exec(output);
  const p99 = /^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$/m.exec(output);
  if (!rps || !total || !p50 || !p99) throw new Error(`could not read wrk's output:\n${output}`);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(output)?.[1] ?? 0);
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const errors = non2xx + (socketErrors ? socketErrors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0);
  return {
    tool: "wrk",
    method: "GET",
    connections,
    seconds: toMs(total[2] as string, total[3] as string) / 1000,
    requests: Number(total[1]),
    errors,
    requestsPerSecond: Number(rps[1]),
    p50Ms: toMs(p50[1] as string, p50[2] as string),
    p99Ms: toMs(p99[1] as string, p99[2] as string),
  };
}

/** `wrk -t2 -cN -dS --latency` against one URL; killed by PID if it overruns. */
export async function runWrk(
  binary: string,
  url: string,
  headers: Record<string, string>,
  connections: number,
  seconds: number,
): Promise<WrkResult> {
  assertLoopback(new URL(url));
  const args = ["-t", "2", "-c", String(connections), "-d", `${seconds}s`, "--timeout", "10s", "--latency"];
  for (const [key, value] of Object.entries(headers)) args.push("-H", `${key}: ${value}`);
  args.push(url);
  const child = await startChild("wrk", binary, args, { PATH: process.env.PATH ?? "/usr/bin:/bin" });
  const timer = setTimeout(() => void child.stop(1000), (seconds + 20) * 1000);
  const code = await child.exited;
  clearTimeout(timer);
  if (code !== 0) throw new Error(`wrk exited with ${code}:\n${child.output()}`);
  return parseWrk(child.output(), connections);
}
