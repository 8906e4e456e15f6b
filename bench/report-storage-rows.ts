import type { RequestCalls } from "./manifest-calls.js";
import type { Row } from "./report-targets.js";
import type { BenchResults } from "./results.js";

/** ` (2 storage calls)` after a row's label, when the calls phase counted them. */
export function callCount(calls: RequestCalls | undefined): string {
  if (!calls) return "";
  const n = Number(calls.perRequest.toFixed(1));
  return ` (${n} storage call${n === 1 ? "" : "s"})`;
}

/** `1.0 GET table, 2.0 POST table batch` (per blob or request). */
export function callNote(calls: { byKind: Record<string, number> }): string {
  const kinds = Object.entries(calls.byKind);
  return kinds.length ? kinds.map(([kind, n]) => `${n.toFixed(1)} ${kind}`).join(", ") : "none";
}

/**
 * The PUT/s raw Azurite could serve if each PUT made the counted table calls and they shared its
 * capacity: 1 / sum(calls of a kind / raw rate of that kind). Reads count as point reads,
 * batches as batches, every other table write as an upsert; blob and queue calls are left out.
 */
export function rawRateForCalls(
  calls: RequestCalls,
  rates: { read: { perSecond: number }; upsert: { perSecond: number }; batch: { perSecond: number } },
): { perSecond: number; tableCalls: number } {
  let seconds = 0;
  let tableCalls = 0;
  for (const [kind, n] of Object.entries(calls.byKind)) {
    if (!/ table\b/.test(kind)) continue;
    const raw = kind === "GET table" ? rates.read : kind.endsWith(" batch") ? rates.batch : rates.upsert;
    seconds += n / raw.perSecond;
    tableCalls += n;
  }
  return { perSecond: 1 / seconds, tableCalls };
}

const rate = (r: { perSecond: number } | undefined) => (r ? Math.round(r.perSecond).toLocaleString("en-US") : "-");

/**
 * The raw Azurite table rates (storage ceilings, not targets: they say how fast the registry's
 * table calls can be here at best) and the storage calls each manifest request costs.
 */
export function storageRows(results: BenchResults): Row[] {
  const rows: Row[] = [];
  const tables = results.azurite.tables;
  if (tables) {
    const n = tables.parallel.read.clients;
    rows.push({
      label: `Azurite table point read, ${tables.readAtConnections.clients} clients`,
      unit: "ops/s",
      stowage: undefined,
      azurite: tables.readAtConnections.perSecond,
      digits: 0,
    });
    const ops = { read: "point read", upsert: "upsert", batch: "2-entity batch", readBatch: "read + batch" } as const;
    for (const [key, name] of Object.entries(ops) as [keyof typeof ops, string][]) {
      const grown = key === "read" ? undefined : tables.grown?.[key];
      const rates = [tables.serial[key], tables.parallel[key], ...(grown ? [grown] : [])];
      rows.push({
        label: `Azurite table ${name}, 1 / ${n} clients${grown ? ` / ${n} at ${tables.grown?.rowsBefore} rows` : ""}`,
        unit: "ops/s",
        stowage: undefined,
        azurite: rates.map(rate).join(" / "),
      });
    }
  }
  const calls = results.stowage.manifestCalls;
  if (calls) {
    const kinds = {
      getByTag: "GET by tag",
      headByTag: "HEAD by tag",
      getByDigest: "GET by digest",
      putByTag: "PUT by tag",
    };
    for (const [key, name] of Object.entries(kinds) as [keyof typeof kinds, string][]) {
      rows.push({
        label: `storage calls per manifest ${name}`,
        unit: "calls",
        stowage: calls[key].perRequest,
        stowageNote: callNote(calls[key]),
      });
    }
  }
  return rows;
}

/** What the Azurite raw column holds for the manifest rows. */
export function storageLegend(results: BenchResults): string[] {
  const images = results.azurite.smallBlobs
    ? [
        "Azurite raw, image push rows: the storage calls the calls phase counts per blob, made straight from the SDKs",
        "  in the same order and grouping, as many blobs at once, for as many blobs (no manifest PUT): Azurite's own time.",
      ]
    : [];
  const tables = results.azurite.tables;
  if (!tables) return images;
  return [
    ...images,
    "Azurite raw, manifest rows: storage ceilings measured with the SDK straight to Azurite, not targets.",
    `  GET/HEAD by tag: point reads of a tag row (${tables.entityBytes} B manifest inline) at the same connection count;`,
    "  a GET or HEAD by tag is exactly one point read. GET by digest is served from the server's cache (0 calls).",
    "  PUT by tag: a point read then the 2-entity batch (manifest + tag row), the least a tag PUT costs, at the same",
    "  client count; '(computed)': the PUT/s Azurite's raw rates leave for all the table calls one PUT was counted making.",
  ];
}
