import type { Child } from "./child-process.js";
import { call } from "./http.js";
import { msSince } from "./timing.js";

/** A registry under measurement: Stowage, or the CNCF distribution reference. */
export interface Target {
  /** Short name used in the table and the JSON ("stowage", "distribution"). */
  name: string;
  /** `http://127.0.0.1:PORT` */
  url: string;
  /** The server process (for RSS sampling). */
  pid: number;
  /** Milliseconds from spawn to the first answered GET /v2/. */
  startMs: number;
  child: Child;
}

/**
 * Polls GET /v2/ (fresh connection each time, every 5 ms) until it answers 200 or 401, and
 * returns the milliseconds since the child was spawned. Bounded by `timeoutMs`.
 */
export async function waitUntilServing(child: Child, url: string, name: string, timeoutMs = 30_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    if (!child.running()) throw new Error(`${name} exited during start-up:\n${child.output()}`);
    try {
      const reply = await call(`${url}/v2/`, { method: "GET", timeoutMs: 2000 });
      if (reply.status === 200 || reply.status === 401) return msSince(child.spawnedAt);
      last = `GET /v2/ answered ${reply.status}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`${name} did not answer GET /v2/ within ${timeoutMs} ms (${last}):\n${child.output()}`);
}
