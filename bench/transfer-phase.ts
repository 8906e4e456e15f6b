import { measureAzuriteCeiling } from "./azurite-ceiling.js";
import { pullLargeLayer, pushLargeLayer } from "./large-layer.js";
import { MiB, Pattern } from "./pattern.js";
import { phase, type BenchResults, type TargetResults } from "./results.js";
import type { BenchSettings } from "./settings.js";
import { startStowage, type StowageOptions } from "./stowage-server.js";
import type { Target } from "./target.js";
import { bestCeiling, bestPull, bestPush } from "./transfer-rounds.js";

/**
 * The `ceiling` and `push` phases: `BENCH_TRANSFER_ROUNDS` interleaved rounds, each with a
 * large layer of its own, straight into Azurite and then through every target (the registries
 * and the relay control): push, pull, and for Stowage the pull again through a second server
 * answering with a 307 to storage. Each side keeps its fastest round.
 */
export async function runTransferRounds(context: {
  targets: { target: Target; results: TargetResults }[];
  stowage: Target;
  relay: Target | undefined;
  storage: Omit<StowageOptions, "env" | "cpuProfDir">;
  results: BenchResults;
  settings: BenchSettings;
  id: string;
  transferTimeoutMs: number;
  /** Azurite's process: its CPU is metered in every transfer that goes through it. */
  storagePid: number;
}): Promise<void> {
  const { results, settings, stowage, transferTimeoutMs: timeoutMs } = context;
  const has = (p: "ceiling" | "push") => settings.phases.has(p);
  const layerBytes = settings.layerMiB * MiB;
  const rounds = has("push") ? settings.transferRounds : 1;
  // started before the first round so that its start-up (and its background jobs, 1 s later) are not timed
  const redirecting = has("push")
    ? await phase(results.stowage.errors, "start a server with STOWAGE_BLOB_REDIRECT=true", () =>
        startStowage({ ...context.storage, env: { STOWAGE_BLOB_REDIRECT: "true" } }, "stowage-redirect"),
      )
    : undefined;
  const relay = context.relay && results.relay ? [{ target: context.relay, results: results.relay }] : [];
  // distribution keeps its bytes on the filesystem: Azurite is idle during its transfers
  const storageOf = (target: Target) =>
    target === stowage || target === context.relay || target === redirecting ? context.storagePid : undefined;
  try {
    for (let round = 1; round <= rounds; round++) {
      // a layer of its own per round: nothing a registry stored in an earlier round can be reused
      const pattern = new Pattern(layerBytes);
      const of = rounds > 1 ? ` (round ${round} of ${rounds})` : "";
      if (has("ceiling")) {
        console.log(`storage ceiling (${settings.layerMiB} MiB straight into Azurite)${of}`);
        const ceiling = await phase(results.azurite.errors, "raw upload + download", () =>
          measureAzuriteCeiling(context.storage.connectionString, pattern, timeoutMs * 2, context.storagePid),
        );
        results.azurite.ceiling = bestCeiling(results.azurite.ceiling, ceiling);
      }
      if (!has("push")) continue;
      for (const { target, results: r } of [...context.targets, ...relay]) {
        console.log(`${target.name}: ${settings.layerMiB} MiB layer${of}`);
        const repository = `bench/large-${context.id}-${round}`;
        const pushed = await phase(r.errors, "push", () =>
          pushLargeLayer(target, repository, pattern, timeoutMs, storageOf(target)),
        );
        r.largePush = bestPush(r.largePush, pushed);
        if (!pushed) continue;
        const pulled = await phase(r.errors, "pull", () =>
          pullLargeLayer(target, repository, pushed.digest, layerBytes, timeoutMs, storageOf(target)),
        );
        r.largePull = bestPull(r.largePull, pulled);
        if (target !== stowage || !redirecting) continue;
        // the same bytes through the redirecting server
        const redirected = await phase(r.errors, "pull with STOWAGE_BLOB_REDIRECT=true", async () => {
          const pull = await pullLargeLayer(
            redirecting,
            repository,
            pushed.digest,
            layerBytes,
            timeoutMs,
            storageOf(redirecting),
          );
          if (!pull.redirected) throw new Error("STOWAGE_BLOB_REDIRECT=true but the blob GET was not redirected");
          return pull;
        });
        r.largePullRedirect = bestPull(r.largePullRedirect, redirected);
      }
    }
  } finally {
    await redirecting?.child.stop();
  }
}
