import type { GcReport } from "./lifecycle-service.js";

/** Orphaned upload blobs a dry run names in these lines (the JSON report has up to 1,000). */
const LISTED = 20;

/** The report as lines a person reads (also what the timer and the server log). */
export function describeGc(report: GcReport): string[] {
  if (report.skipped) return [`garbage collection skipped: ${report.skipped}`];
  const would = report.dryRun ? "would delete (dry run)" : "deleted";
  const { sweep } = report;
  return [
    `garbage collection ${report.dryRun ? "dry run" : "done"} in ${report.durationMs} ms (grace ${report.graceSeconds} s)`,
    `  abandoned uploads   ${report.uploads.count} abandoned upload(s) ${report.dryRun ? "would be purged" : "purged"} (${report.uploads.bytes} bytes)`,
    `  retention           ${would} ${report.retention.manifests} manifest(s), ${report.retention.tags} tag(s)`,
    `  unreferenced blobs  ${would} ${sweep.blobs.count} (${sweep.blobs.bytes} bytes), ${sweep.links} link(s)`,
    `  orphaned uploads    ${would} ${report.orphanedBytes.count} upload blob(s) no index row or session owns (${report.orphanedBytes.bytes} bytes)`,
    ...report.orphanedBytes.blobNames.slice(0, LISTED).map((name) => `                        ${name}`),
    ...(report.orphanedBytes.count > LISTED && report.dryRun
      ? [`                        (the JSON report lists more)`]
      : []),
    `  kept                ${sweep.referenced} candidate(s) still referenced, ${sweep.claimed} claimed by a push meanwhile`,
    `  empty repositories  ${report.dryRun ? "would leave" : "left"} the catalog: ${report.repositories}`,
    `  scanned             ${sweep.scanned} index row(s), ${sweep.manifestsRead} manifest row(s)`,
  ];
}
