/**
 * Benchmark settings, from BENCH_* environment variables. Every value is bounded so a typo
 * cannot turn the run into an endless one.
 */

export const PHASES = [
  "ceiling",
  "push",
  "skopeo",
  "small",
  "manifest",
  "metrics",
  "tables",
  "tags",
  "token",
  "calls",
  "cold",
  "reference",
] as const;
export type Phase = (typeof PHASES)[number];

export interface BenchSettings {
  /** Size of the large layer, and of the raw Azurite upload/download (BENCH_LAYER_MIB). */
  layerMiB: number;
  /** Rounds of the large-layer push/pull and its ceiling, best of each kept (BENCH_TRANSFER_ROUNDS). */
  transferRounds: number;
  /** Seconds per request-rate measurement (BENCH_LOAD_SECONDS). */
  loadSeconds: number;
  /** Concurrent keep-alive connections for request-rate measurements (BENCH_CONNECTIONS). */
  connections: number;
  /** Many-small-layer image: layer count, layer size and upload concurrency. */
  smallLayers: number;
  smallLayerKiB: number;
  smallConcurrency: number;
  /** Clients for the parallel manifest PUT and token issue rates (BENCH_CLIENTS). */
  clients: number;
  /** Tags the repository is grown to before the PUT rate is taken again (BENCH_TAGS). */
  tags: number;
  /** How many times the server is restarted to measure the cold start (BENCH_COLD_STARTS). */
  coldStarts: number;
  /** Azurite persistence (BENCH_AZURITE=disk|memory). */
  azurite: "disk" | "memory";
  /** Phases to run (BENCH_PHASES=push,manifest,...; default all). */
  phases: ReadonlySet<Phase>;
  /** Start the measured Stowage server with --cpu-prof into this directory (BENCH_CPU_PROF_DIR). */
  cpuProfDir: string | undefined;
  /** Whole-run watchdog (BENCH_TIMEOUT_SECONDS): past it, everything is stopped and the run fails. */
  timeoutSeconds: number;
  /** Where the JSON results go (BENCH_OUTPUT). */
  output: string;
}

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer from ${min} to ${max} (got ${JSON.stringify(raw)})`);
  }
  return value;
}

export function loadSettings(env: NodeJS.ProcessEnv = process.env): BenchSettings {
  const azurite = env.BENCH_AZURITE ?? "disk";
  if (azurite !== "disk" && azurite !== "memory") throw new Error(`BENCH_AZURITE must be disk or memory`);
  let phases: Set<Phase> = new Set(PHASES);
  if (env.BENCH_PHASES) {
    const wanted = env.BENCH_PHASES.split(",").map((p) => p.trim());
    const unknown = wanted.filter((p) => !(PHASES as readonly string[]).includes(p));
    if (unknown.length > 0)
      throw new Error(`BENCH_PHASES: unknown ${unknown.join(", ")} (known: ${PHASES.join(", ")})`);
    phases = new Set(wanted as Phase[]);
  }
  return {
    layerMiB: int(env, "BENCH_LAYER_MIB", 512, 1, 8192),
    transferRounds: int(env, "BENCH_TRANSFER_ROUNDS", 2, 1, 5),
    loadSeconds: int(env, "BENCH_LOAD_SECONDS", 5, 1, 60),
    connections: int(env, "BENCH_CONNECTIONS", 32, 1, 256),
    smallLayers: int(env, "BENCH_SMALL_LAYERS", 50, 1, 1000),
    smallLayerKiB: int(env, "BENCH_SMALL_LAYER_KIB", 64, 1, 16 * 1024),
    smallConcurrency: int(env, "BENCH_SMALL_CONCURRENCY", 4, 1, 32),
    coldStarts: int(env, "BENCH_COLD_STARTS", 3, 1, 20),
    clients: int(env, "BENCH_CLIENTS", 16, 1, 256),
    tags: int(env, "BENCH_TAGS", 3000, 0, 100_000),
    azurite,
    phases,
    cpuProfDir: env.BENCH_CPU_PROF_DIR || undefined,
    timeoutSeconds: int(env, "BENCH_TIMEOUT_SECONDS", 3600, 60, 6 * 3600),
    output: env.BENCH_OUTPUT || "dist/bench-results.json",
  };
}
