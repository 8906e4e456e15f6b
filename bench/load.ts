import { request as httpRequest } from "node:http";
import { assertLoopback, keepAliveAgent } from "./http.js";

export interface LoadOptions {
  url: string;
  method: "GET" | "HEAD";
  headers: Record<string, string>;
  /** Concurrent keep-alive connections, each with one request in flight. */
  connections: number;
  seconds: number;
  /** Upper bound on measured requests, whatever the rate. */
  maxRequests?: number;
  /** Unmeasured lead-in (connections opened, JIT warm). */
  warmupSeconds?: number;
}

export interface LoadResult {
  tool: "node:http";
  method: string;
  connections: number;
  seconds: number;
  requests: number;
  /** Answers other than 200, and transport errors. */
  errors: number;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * Closed-loop load from this process: `connections` keep-alive sockets (node:http Agent), each
 * sending the next request as soon as the previous answer is read, for `seconds`. Note the
 * client shares the machine's cores with the server and Azurite.
 */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const target = new URL(options.url);
  assertLoopback(target);
  const agent = keepAliveAgent(options.connections);
  const maxRequests = options.maxRequests ?? 2_000_000;
  const latencies = new Float64Array(maxRequests);
  let count = 0;
  let errors = 0;
  let firstError = "";
  const requestOptions = {
    host: target.hostname,
    port: target.port,
    path: target.pathname + target.search,
    method: options.method,
    headers: options.headers,
    agent,
  };

  const once = () =>
    new Promise<number>((resolve) => {
      const started = process.hrtime.bigint();
      const req = httpRequest(requestOptions, (res) => {
        res.resume();
        res.once("end", () =>
          resolve(res.statusCode === 200 ? Number(process.hrtime.bigint() - started) / 1e6 : -res.statusCode!),
        );
        res.once("error", () => resolve(-1));
      });
      req.setTimeout(10_000, () => req.destroy(new Error("request timed out")));
      req.once("error", (error) => {
        firstError ||= error.message;
        resolve(-1);
      });
      req.end();
    });

  const phase = async (seconds: number, record: boolean) => {
    const deadline = performance.now() + seconds * 1000;
    const worker = async () => {
      while (performance.now() < deadline && count < maxRequests) {
        const ms = await once();
        if (!record) continue;
        if (ms < 0) {
          errors++;
          firstError ||= `status ${-ms}`;
        } else if (count < maxRequests) latencies[count++] = ms;
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: options.connections }, worker));
    return (performance.now() - started) / 1000;
  };

  try {
    await phase(options.warmupSeconds ?? Math.min(1, options.seconds / 5), false);
    const elapsed = await phase(options.seconds, true);
    if (count === 0) throw new Error(`${options.method} ${target.pathname}: no successful answer (${firstError})`);
    const sorted = latencies.subarray(0, count).sort();
    const at = (q: number) => sorted[Math.min(count - 1, Math.floor(q * count))] as number;
    return {
      tool: "node:http",
      method: options.method,
      connections: options.connections,
      seconds: elapsed,
      requests: count,
      errors,
      requestsPerSecond: count / elapsed,
      p50Ms: at(0.5),
      p99Ms: at(0.99),
      maxMs: sorted[count - 1] as number,
    };
  } finally {
    agent.destroy();
  }
}
