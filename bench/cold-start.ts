import { rssMiB } from "./rss.js";
import type { Target } from "./target.js";
import { median } from "./timing.js";

export interface ColdStart {
  /** Milliseconds from spawn to the first answered GET /v2/, one per start. */
  runsMs: number[];
  medianMs: number;
  minMs: number;
  /** RSS right after the first answer, MiB (median). */
  rssAfterStartMiB: number;
}

/**
 * Starts a fresh server process `count` times against storage that already exists (a restart,
 * a scale-out instance), timing spawn -> first answered GET /v2/, and stops each by PID.
 */
export async function measureColdStart(start: () => Promise<Target>, count: number): Promise<ColdStart> {
  const runsMs: number[] = [];
  const rss: number[] = [];
  for (let i = 0; i < count; i++) {
    const target = await start();
    try {
      runsMs.push(target.startMs);
      rss.push(rssMiB(target.pid));
    } finally {
      await target.child.stop();
    }
  }
  return { runsMs, medianMs: median(runsMs), minMs: Math.min(...runsMs), rssAfterStartMiB: median(rss) };
}
