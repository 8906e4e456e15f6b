import type { Readiness } from "../http/ops-app.js";

/** One dependency's check: resolves when it answers; must give up when `signal` aborts. */
export type ReadinessCheck = (signal: AbortSignal) => Promise<unknown>;

export interface ReadinessOptions {
  /** Each check must answer within this time, or the process is not ready. */
  timeoutMs: number;
  /** An answer is reused this long: probes from many places cost storage one call per period. */
  cacheMs: number;
  now: () => number;
}

/**
 * `/readyz`: every check (storage, Key Vault when configured) run at once with a timeout,
 * the result cached briefly. Concurrent probes share one round of checks.
 */
export function readiness(checks: Record<string, ReadinessCheck>, options: ReadinessOptions): () => Promise<Readiness> {
  let cached: { at: number; result: Promise<Readiness> } | undefined;
  return () => {
    const now = options.now();
    if (!cached || now - cached.at >= options.cacheMs)
      cached = { at: now, result: runChecks(checks, options.timeoutMs) };
    return cached.result;
  };
}

async function runChecks(checks: Record<string, ReadinessCheck>, timeoutMs: number): Promise<Readiness> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => [name, await withTimeout(check, timeoutMs)] as const),
  );
  return { ready: entries.every(([, state]) => state === "ok"), checks: Object.fromEntries(entries) };
}

async function withTimeout(check: ReadinessCheck, timeoutMs: number): Promise<"ok" | "failed" | "timeout"> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve("timeout");
    }, timeoutMs);
  });
  try {
    // the race answers in time even when a check ignores its signal
    return await Promise.race([check(controller.signal).then(() => "ok" as const), timeout]);
  } catch {
    return controller.signal.aborted ? "timeout" : "failed";
  } finally {
    clearTimeout(timer);
  }
}
