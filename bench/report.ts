import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { BenchResults, TargetResults } from "./results.js";
import { callCount, callNote, storageLegend, storageRows } from "./report-storage-rows.js";
import { cpuLines } from "./report-cpu.js";
import { relayLines } from "./report-relay.js";
import { tagPutRows } from "./report-tag-puts.js";
import { absolute, atLeast, atMost, type Cell, type Row } from "./report-targets.js";
import { UPLOAD_MODES } from "./small-image.js";

function targetOf(results: BenchResults): TargetResults | undefined {
  return "skipped" in results.distribution ? undefined : results.distribution;
}

function rowsFor(results: BenchResults): Row[] {
  const s = results.stowage;
  const d = targetOf(results);
  const c = results.azurite.ceiling;
  const mib = results.meta.layerMiB;
  const best = (results.meta.transferRounds ?? 1) > 1 ? `, best of ${results.meta.transferRounds}` : "";
  const rows: Row[] = [
    {
      label: `${mib} MiB layer push, POST/PATCH/PUT${best}`,
      unit: "MB/s",
      stowage: s.largePush?.push.mbPerSecond,
      azurite: c?.upload.mbPerSecond,
      distribution: d?.largePush?.push.mbPerSecond,
      target: atLeast(0.95, "Azurite", s.largePush?.push.mbPerSecond, c?.upload.mbPerSecond),
    },
    {
      label: `${mib} MiB layer pull, GET${best}`,
      unit: "MB/s",
      stowage: s.largePull?.pull.mbPerSecond,
      azurite: c?.downloadSameClient.mbPerSecond,
      distribution: d?.largePull?.pull.mbPerSecond,
      target: atLeast(0.9, "Azurite", s.largePull?.pull.mbPerSecond, c?.downloadSameClient.mbPerSecond),
    },
    {
      label: `${mib} MiB layer pull, 307 to storage${best}`,
      unit: "MB/s",
      stowage: s.largePullRedirect?.pull.mbPerSecond,
      azurite: c?.downloadSameClient.mbPerSecond,
      target: atLeast(0.95, "Azurite", s.largePullRedirect?.pull.mbPerSecond, c?.downloadSameClient.mbPerSecond),
    },
    {
      label: `${mib} MiB raw download by the storage SDK (node:http)`,
      unit: "MB/s",
      stowage: undefined,
      azurite: c?.download.mbPerSecond,
    },
    {
      label: `server CPU time during the streamed pull (fastest round)`,
      unit: "ms",
      stowage: s.largePull?.pull.cpu?.serverMs,
      distribution: d?.largePull?.pull.cpu?.serverMs,
    },
    {
      label: "server RSS peak during redirected pull",
      unit: "MiB",
      stowage: s.largePullRedirect?.pullRss.peakMiB,
    },
    {
      label: `${mib} MiB layer push time`,
      unit: "s",
      stowage: s.largePush?.push.seconds,
      azurite: c?.upload.seconds,
      distribution: d?.largePush?.push.seconds,
      digits: 2,
    },
    {
      label: `${mib} MiB layer pull time`,
      unit: "s",
      stowage: s.largePull?.pull.seconds,
      azurite: c?.downloadSameClient.seconds,
      distribution: d?.largePull?.pull.seconds,
      digits: 2,
    },
    {
      label: "server RSS idle, before push",
      unit: "MiB",
      stowage: s.largePush?.idleRssMiB,
      distribution: d?.largePush?.idleRssMiB,
      target: absolute("< 64 MiB", s.largePush?.idleRssMiB, (v) => v < 64),
    },
    {
      label: "server RSS peak during push (100 ms samples)",
      unit: "MiB",
      stowage: s.largePush?.pushRss.peakMiB,
      distribution: d?.largePush?.pushRss.peakMiB,
      target: absolute("< 128 MiB", s.largePush?.pushRss.peakMiB, (v) => v < 128),
    },
    {
      label: "server VmHWM after push",
      unit: "MiB",
      stowage: s.largePush?.pushRss.hwmMiB,
      distribution: d?.largePush?.pushRss.hwmMiB,
    },
    {
      label: "server RSS peak during pull",
      unit: "MiB",
      stowage: s.largePull?.pullRss.peakMiB,
      distribution: d?.largePull?.pullRss.peakMiB,
    },
    {
      label: `skopeo copy push, ${mib} MiB one-layer image (best of 2)`,
      unit: "s",
      stowage: s.skopeo?.bestPushSeconds,
      azurite: s.skopeo && c?.upload.seconds,
      distribution: d?.skopeo?.bestPushSeconds,
      digits: 2,
    },
    {
      label: `skopeo copy pull into dir: (best of 2)`,
      unit: "s",
      stowage: s.skopeo?.bestPullSeconds,
      azurite: s.skopeo && c?.downloadSameClient.seconds,
      distribution: d?.skopeo?.bestPullSeconds,
      digits: 2,
    },
  ];
  for (const mode of UPLOAD_MODES) {
    const cell = (t: TargetResults | undefined): Cell => {
      const r = t?.smallImages?.[mode];
      if (!r) return undefined;
      return "unsupported" in r ? "n/a" : r.seconds;
    };
    rows.push({
      label: `image push, ${results.meta.smallImageShort}, ${mode}`,
      unit: "s",
      stowage: cell(s),
      azurite: results.azurite.smallBlobs?.[mode],
      distribution: cell(d),
      digits: 2,
      ...(mode === "monolithic" ? {} : { target: atMost(1.5, "dist", cell(s), cell(d)) }),
    });
  }
  for (const mode of UPLOAD_MODES) {
    const calls = s.smallBlobCalls?.[mode];
    if (!calls) continue;
    rows.push({
      label: `storage calls per small blob, ${mode}`,
      unit: "calls",
      stowage: calls.perBlob,
      stowageNote: callNote(calls),
    });
  }
  const m = s.manifests;
  const dm = d?.manifests;
  const lat = (r: { p50Ms: number; p99Ms: number } | undefined): Cell =>
    r ? `${r.p50Ms.toFixed(1)} / ${r.p99Ms.toFixed(1)}` : undefined;
  const goal: Partial<Record<string, number>> = { wrkGetByDigest: 2, wrkGetByTag: 1.5, headByTag: 2 };
  const tables = results.azurite.tables;
  const mc = s.manifestCalls;
  // by tag, a manifest GET or HEAD is one point read: raw Azurite's rate for it is that row's ceiling
  const pointReads = m && tables?.readAtConnections.clients === results.meta.connections ? tables : undefined;
  const callsOf = {
    getByTag: mc?.getByTag,
    getByDigest: mc?.getByDigest,
    headByTag: mc?.headByTag,
    wrkGetByTag: mc?.getByTag,
    wrkGetByDigest: mc?.getByDigest,
  };
  const load = (label: string, key: "getByTag" | "getByDigest" | "headByTag" | "wrkGetByTag" | "wrkGetByDigest") => {
    const factor = goal[key];
    const calls = callsOf[key];
    rows.push({
      label: `${label}${callCount(calls)}`,
      unit: "req/s",
      stowage: m?.[key]?.requestsPerSecond,
      ...(key.endsWith("ByTag") ? { azurite: pointReads?.readAtConnections.perSecond } : {}),
      distribution: dm?.[key]?.requestsPerSecond,
      digits: 0,
      ...(factor ? { target: atLeast(factor, "dist", m?.[key]?.requestsPerSecond, dm?.[key]?.requestsPerSecond) } : {}),
    });
    rows.push({ label: `  latency p50 / p99`, unit: "ms", stowage: lat(m?.[key]), distribution: lat(dm?.[key]) });
    // what the target asks of this run: the rate it demands as a share of what Azurite alone serves
    const reference = dm?.[key]?.requestsPerSecond;
    const ceiling = key.endsWith("ByTag") ? pointReads?.readAtConnections.perSecond : undefined;
    if (factor && reference !== undefined && ceiling)
      rows.push({
        label: "  the target's rate / Azurite raw",
        unit: "ratio",
        stowage: (factor * reference) / ceiling,
        digits: 2,
      });
  };
  const c32 = `-c${results.meta.connections}`;
  load(`manifest GET by tag (node ${c32})`, "getByTag");
  load(`manifest GET by digest (node ${c32})`, "getByDigest");
  load(`manifest HEAD by tag (node ${c32})`, "headByTag");
  if (m?.wrkGetByTag || dm?.wrkGetByTag) {
    load(`manifest GET by tag (wrk ${c32})`, "wrkGetByTag");
    load(`manifest GET by digest (wrk ${c32})`, "wrkGetByDigest");
  }
  const overhead = s.metricsOverhead;
  if (overhead) {
    const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
    rows.push(
      {
        label: "manifest GET by tag, metrics off",
        unit: "req/s",
        stowage: mean(overhead.offRequestsPerSecond),
        digits: 0,
      },
      {
        label: "manifest GET by tag, metrics on",
        unit: "req/s",
        stowage: mean(overhead.onRequestsPerSecond),
        digits: 0,
      },
      { label: "  metrics on / off", unit: "ratio", stowage: overhead.ratio, digits: 3 },
    );
  }
  rows.push(...tagPutRows(results));
  rows.push(...storageRows(results));
  if (s.tokenIssue) {
    rows.push({
      label: `token issue, Basic password, ${s.tokenIssue.connections} clients`,
      unit: "tokens/s",
      stowage: s.tokenIssue.requestsPerSecond,
      target: absolute(">= 200/s", s.tokenIssue.requestsPerSecond, (v) => v >= 200),
    });
    rows.push({ label: `  latency p50 / p99`, unit: "ms", stowage: lat(s.tokenIssue) });
  }
  rows.push(
    {
      label: "first start, new storage: spawn -> GET /v2/",
      unit: "ms",
      stowage: s.firstStartMs,
      distribution: d?.firstStartMs,
      digits: 0,
    },
    {
      label: `cold start, existing storage (median of ${s.coldStart?.runsMs.length ?? "-"})`,
      unit: "ms",
      stowage: s.coldStart?.medianMs,
      distribution: d?.coldStart?.medianMs,
      digits: 0,
      target: absolute("< 300 ms", s.coldStart?.medianMs, (v) => v < 300),
    },
    {
      label: "CPU time used by the first answer",
      unit: "ms",
      stowage: s.coldStart?.cpuAfterStartMs,
      distribution: d?.coldStart?.cpuAfterStartMs,
      digits: 0,
    },
    {
      label: "RSS right after start",
      unit: "MiB",
      stowage: s.coldStart?.rssAfterStartMiB,
      distribution: d?.coldStart?.rssAfterStartMiB,
    },
    {
      label: "RSS 12 s after a start, no request since",
      unit: "MiB",
      stowage: s.coldStart?.rssIdleMiB,
      distribution: d?.coldStart?.rssIdleMiB,
    },
    {
      label: `Functions entry import, ${s.coldStart?.functionsEntry?.entry ?? "-"} (median)`,
      unit: "ms",
      stowage: s.coldStart?.functionsEntry?.medianMs,
      digits: 0,
      target: absolute("< 150 ms", s.coldStart?.functionsEntry?.medianMs, (v) => v < 150),
    },
    {
      label: "same, compiled functions/*.js one by one (unbundled)",
      unit: "ms",
      stowage: s.coldStart?.functionsEntry?.unbundledMedianMs,
      digits: 0,
    },
  );
  return rows;
}

function format(cell: Cell, digits = 1): string {
  if (cell === undefined) return "-";
  if (typeof cell === "string") return cell;
  if (!Number.isFinite(cell)) return "-";
  return cell.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

function ratio(a: Cell, b: Cell): string {
  if (typeof a !== "number" || typeof b !== "number" || !Number.isFinite(a) || !Number.isFinite(b) || b === 0)
    return "";
  return `${(a / b).toFixed(2)}x`;
}

/** The results as an aligned text table; ratios are Stowage divided by the reference. */
export function renderTable(results: BenchResults): string {
  const distName = "skipped" in results.distribution ? "distribution (skipped)" : "distribution 2.8";
  const header = ["metric", "unit", "Stowage", "Azurite raw", "S/Azurite", distName, "S/dist", "target"];
  // rows of phases that did not run (BENCH_PHASES) are left out
  const measured = rowsFor(results).filter((r) => [r.stowage, r.azurite, r.distribution].some((c) => c !== undefined));
  const body = measured.map((r) => [
    r.label,
    r.unit,
    format(r.stowage, r.digits),
    r.azurite === undefined ? "" : format(r.azurite, r.digits),
    ratio(r.stowage, r.azurite),
    format(r.distribution, r.digits),
    ratio(r.stowage, r.distribution),
    r.target ? `${r.target.text}${r.target.met === false ? "  MISSED" : r.target.met ? "  met" : ""}` : "",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] as string).length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number)))
      .join("  ");
  const notes = measured.flatMap((r) => (r.stowageNote ? [`  ${r.label}: ${r.stowageNote}`] : []));
  const table = [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(line)];
  const heading = "storage calls by kind, counted in the calls phase (per blob pushed, or per request):";
  const legend = storageLegend(results);
  const relay = relayLines(results);
  const cpu = cpuLines(results);
  return [
    ...table,
    ...(notes.length ? ["", heading, ...notes] : []),
    ...(relay.length ? ["", ...relay] : []),
    ...(cpu.length ? ["", ...cpu] : []),
    ...(legend.length ? ["", ...legend] : []),
  ].join("\n");
}

export function renderSummary(results: BenchResults): string {
  const m = results.meta;
  const lines = [
    `Stowage benchmark ${m.startedAt} | node ${m.node} | ${m.cpus} x ${m.cpuModel}`,
    `Azurite: ${m.azurite} | layer ${m.layerMiB} MiB | small image ${m.smallImage} | load ${m.loadSeconds} s x ${m.connections} connections`,
    `load average (1 min) at start ${m.loadAverageStart.toFixed(2)}, at end ${m.loadAverageEnd?.toFixed(2) ?? "?"}: ` +
      `the machine is shared, so numbers are noisy; compare the ratios, taken in the same run.`,
  ];
  if ("skipped" in results.distribution) lines.push(`distribution reference skipped: ${results.distribution.skipped}`);
  else lines.push(`reference: ${results.distribution.version}, filesystem storage in a temp dir`);
  if (results.clientFloor) {
    lines.push(
      `client alone (make + sha256 the layer, no I/O): ${results.clientFloor.mbPerSecond.toFixed(0)} MB/s; ` +
        `a push near this is client-bound`,
    );
  }
  if (results.azurite.ceiling) {
    lines.push("note: the pulls' Azurite raw is a SAS download read by the same client as the pulls (undici)");
  }
  for (const note of m.notes) lines.push(`note: ${note}`);
  const errors = [
    ...Object.entries(results.azurite.errors).map(([k, v]) => `azurite ${k}: ${v}`),
    ...Object.entries(results.stowage.errors).map(([k, v]) => `stowage ${k}: ${v}`),
    ...("skipped" in results.distribution
      ? []
      : Object.entries(results.distribution.errors).map(([k, v]) => `distribution ${k}: ${v}`)),
  ];
  for (const error of errors) lines.push(`ERROR ${error.split("\n")[0]}`);
  return lines.join("\n");
}

/** Writes the JSON results (under dist/ by default, so nothing lands in git). */
export function writeResults(results: BenchResults, path: string): string {
  const full = resolve(path);
  mkdirSync(dirname(full), { recursive: true });
  writeFileSync(full, `${JSON.stringify({ ...results, table: renderTable(results).split("\n") }, null, 2)}\n`);
  return full;
}

export function errorCount(results: BenchResults): number {
  const dist = "skipped" in results.distribution ? 0 : Object.keys(results.distribution.errors).length;
  return Object.keys(results.azurite.errors).length + Object.keys(results.stowage.errors).length + dist;
}
