import type { Ceiling } from "./azurite-ceiling.js";
import type { LargePull, LargePush } from "./large-layer.js";
import type { Throughput } from "./timing.js";

/**
 * Best-of-N for the large-layer figures. One sample of a 256 MiB transfer on a shared machine
 * swings by a third either way (a burst of another process's work), and the targets compare
 * two such samples. Rounds interleave the ceiling and every registry, each round with a layer
 * of its own, and every side keeps its fastest round: the same rule on both sides of a ratio.
 */
function faster<T extends Throughput>(a: T, b: T): T {
  return b.mbPerSecond > a.mbPerSecond ? b : a;
}

export function bestCeiling(kept: Ceiling | undefined, next: Ceiling | undefined): Ceiling | undefined {
  if (!kept || !next) return kept ?? next;
  return {
    ...kept,
    upload: faster(kept.upload, next.upload),
    download: faster(kept.download, next.download),
    downloadSameClient: faster(kept.downloadSameClient, next.downloadSameClient),
  };
}

/** The fastest push; memory from every round: idle before the first push, the highest peak of any. */
export function bestPush(kept: LargePush | undefined, next: LargePush | undefined): LargePush | undefined {
  if (!kept || !next) return kept ?? next;
  return {
    ...kept,
    push: faster(kept.push, next.push),
    pushRss: {
      samples: kept.pushRss.samples + next.pushRss.samples,
      peakMiB: Math.max(kept.pushRss.peakMiB, next.pushRss.peakMiB),
      hwmMiB: Math.max(kept.pushRss.hwmMiB, next.pushRss.hwmMiB),
    },
  };
}

export function bestPull(kept: LargePull | undefined, next: LargePull | undefined): LargePull | undefined {
  if (!kept || !next) return kept ?? next;
  return {
    ...kept,
    pull: faster(kept.pull, next.pull),
    redirected: kept.redirected && next.redirected,
    pullRss: {
      samples: kept.pullRss.samples + next.pullRss.samples,
      peakMiB: Math.max(kept.pullRss.peakMiB, next.pullRss.peakMiB),
      hwmMiB: Math.max(kept.pullRss.hwmMiB, next.pullRss.hwmMiB),
    },
  };
}
