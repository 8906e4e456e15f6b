import { removeTempDir, tempDir } from "./lifecycle.js";
import { writeOciLayout } from "./oci-layout.js";
import { Pattern } from "./pattern.js";
import { phase, type BenchResults, type TargetResults } from "./results.js";
import { findSkopeo, measureSkopeo, skopeoVersion } from "./skopeo.js";
import type { Target } from "./target.js";

/**
 * The `skopeo` phase: the large layer as a one-layer image, copied into every target and back
 * with skopeo, best of two; skipped, with the reason printed, when skopeo is not installed.
 */
export async function runSkopeoPhase(
  targets: { target: Target; results: TargetResults }[],
  results: BenchResults,
  options: { layerBytes: number; repository: string; timeoutMs: number },
): Promise<void> {
  const skopeo = findSkopeo();
  if (!skopeo) {
    console.log("skopeo copy: skipped, skopeo is not installed (Debian: apt-get install skopeo)");
    results.meta.notes.push("skopeo not installed: the real-client copy was not measured");
    return;
  }
  const version = await skopeoVersion(skopeo);
  results.meta.notes.push(`real client: ${version}`);
  const mib = results.meta.layerMiB;
  console.log(`skopeo copy: ${mib} MiB one-layer image, push then pull, best of 2 (${version})`);
  const copies = await phase(results.stowage.errors, "skopeo copy push + pull", async () => {
    // two layers (one per round, so nothing can be skipped), written before any clock starts
    const layouts = [];
    try {
      for (let i = 0; i < 2; i++) layouts.push(await writeOciLayout(tempDir("oci"), new Pattern(options.layerBytes)));
      const all = targets.map((t) => t.target);
      return await measureSkopeo(skopeo, all, options.repository, layouts, options.timeoutMs);
    } finally {
      for (const layout of layouts) removeTempDir(layout.dir);
    }
  });
  for (const { target, results: r } of targets) {
    const copied = copies?.get(target);
    if (!copied) continue;
    r.skopeo = copied;
    const runs = (seconds: number[]) => seconds.map((v) => v.toFixed(2)).join(", ");
    console.log(`  ${target.name}: push ${runs(copied.pushSeconds)} s, pull ${runs(copied.pullSeconds)} s`);
  }
  const dist = "skipped" in results.distribution ? undefined : results.distribution.skopeo;
  const own = results.stowage.skopeo;
  if (own && dist) {
    console.log(
      `  Stowage / distribution, best of 2: push ${(own.bestPushSeconds / dist.bestPushSeconds).toFixed(2)}x, ` +
        `pull ${(own.bestPullSeconds / dist.bestPullSeconds).toFixed(2)}x the time`,
    );
  }
}
