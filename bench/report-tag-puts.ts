import type { BenchResults } from "./results.js";
import { callCount, rawRateForCalls } from "./report-storage-rows.js";
import { atLeast, type Row } from "./report-targets.js";

/**
 * The manifest PUT by tag rows: 1 and N clients against distribution and Azurite's raw read +
 * batch, the raw rate for all of a PUT's table calls, with a push webhook subscribed, and once
 * the repository holds thousands of tags.
 */
export function tagPutRows(results: BenchResults): Row[] {
  const s = results.stowage;
  const d = "skipped" in results.distribution ? undefined : results.distribution;
  const tables = results.azurite.tables;
  const mc = s.manifestCalls;
  const t = s.tagPuts;
  const dt = d?.tagPuts;
  const mix = mc && tables ? rawRateForCalls(mc.putByTag, tables.parallel) : undefined;
  if (!t && !dt) return [];
  return [
    {
      label: `manifest PUT by tag, 1 client${callCount(mc?.putByTag)}`,
      unit: "PUT/s",
      stowage: t?.serial.perSecond,
      azurite: t && tables?.serial.readBatch.perSecond,
      distribution: dt?.serial.perSecond,
      target: atLeast(1, "dist", t?.serial.perSecond, dt?.serial.perSecond),
    },
    {
      label: `manifest PUT by tag, ${t?.parallel.clients ?? dt?.parallel.clients} clients`,
      unit: "PUT/s",
      stowage: t?.parallel.perSecond,
      azurite: t && tables?.parallel.readBatch.perSecond,
      distribution: dt?.parallel.perSecond,
      target: atLeast(1, "dist", t?.parallel.perSecond, dt?.parallel.perSecond),
    },
    ...(mix
      ? [
          {
            label: `  same, Azurite raw for its ${mix.tableCalls} table calls (computed)`,
            unit: "PUT/s",
            stowage: t?.parallel.perSecond,
            azurite: t && mix.perSecond,
          },
        ]
      : []),
    ...(s.tagPutsSubscribed
      ? [
          {
            label: `  same, a push webhook subscribed, 1 / ${s.tagPutsSubscribed.parallel.clients} clients (${s.tagPutsSubscribed.deliveries} delivered)`,
            unit: "PUT/s",
            stowage: `${s.tagPutsSubscribed.serial.perSecond.toFixed(1)} / ${s.tagPutsSubscribed.parallel.perSecond.toFixed(1)}`,
          },
        ]
      : []),
    {
      label: `  same, repository holding ${t?.grown?.tagsBefore ?? dt?.grown?.tagsBefore ?? "-"} tags`,
      unit: "PUT/s",
      stowage: t?.grown?.perSecond,
      azurite: t && tables?.grown?.readBatch.perSecond,
      distribution: dt?.grown?.perSecond,
      // "no decline": within the noise of the same measurement on the small repository
      target: atLeast(0.9, "small repo", t?.grown?.perSecond, t?.parallel.perSecond),
    },
  ];
}
