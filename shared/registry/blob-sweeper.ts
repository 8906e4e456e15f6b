import { mapLimit } from "../lib/map-limit.js";
import type { BlobStore } from "../storage/ports/blob-store.js";
import type { CollectionStore, IndexedBlob } from "../storage/ports/collection-store.js";
import { referencesOf } from "./manifest-references.js";

/**
 * The online blob sweep: deletes blobs that no manifest of any repository references, with
 * their repository links and blob-index rows, while pushes go on.
 *
 * Why a concurrent push can never lose a blob (the protocol, on the blob-index row):
 *
 *   sweep, per candidate              push that references the blob
 *   S1 mark the row (If-Match)        P1 write the reference (manifest row, or link on a mount
 *   S2 scan every manifest               or on an upload of a digest the registry already has)
 *   S3 mark -> deleting (If-Match     P2 claim the row: read it; if marked, clear the mark
 *      the etag S1 got), then links,     (If-Match); if deleting or gone, undo P1 and fail
 *      bytes, row                        (MANIFEST_BLOB_UNKNOWN / a retryable upload error)
 *
 * Both sides write first and check second. If P1 came before S2 read that manifest, S2 sees
 * the reference and the sweep keeps the blob. Otherwise P1 > S2 > S1, so P2 runs after the
 * mark: either P2 clears it first (S3's If-Match then fails and the blob stays) or S3 wins
 * and P2 sees "deleting" or no row, so the push undoes its reference and the client is told
 * to retry, never acknowledged over a missing blob. Nothing depends on clocks, so this holds
 * with a grace period of 0; the grace period only spares blobs uploaded or mounted recently
 * (`touchedAt`) whose manifest has not been pushed yet.
 *
 * P2 costs a read per blob, so a push first asks whether it can skip it (the sweep epoch, one
 * row: how many sweeps have begun, and whether one is marking). A sweep sets "marking" and
 * increments the epoch (S0) before it marks anything, and clears "marking" (S4) only after its
 * last row is deleted, and only if no other sweep began since. A push reads the row at P0,
 * before it reads anything it relies on (the manifest, the links it checks), and again at P2',
 * after P1. If both reads show the same epoch and no marking, no sweep ran at any time between
 * them: a sweep that will delete the blob begins after P2', so its S2 sees P1; one that ended
 * before P0 left no "deleting" row, so the blob the push found linked or referenced at P0 or
 * later was there and stays there until P2'. Otherwise the push claims every blob as above.
 * Why P0, not P2' alone: a sweep can move the blob to "deleting" (S3) before P1 and finish
 * (S4) before P2', and a check of the link before the sweep's link pass saw nothing amiss.
 * Why P0 before the manifest read, not beside it: a manifest seen, then deleted and its
 * blobs swept, all before P0 read the epoch, would be written back over missing blobs.
 * Any read completed before that will do as P0 (a push takes the latest one a push made, unless
 * it showed marking): an earlier P0 only widens the window checked, since a sweep that begins
 * after it changes the epoch. A re-tag's "manifest read" is the If-Match of its own batch.
 * A sweep that crashes leaves "marking" set (pushes claim every blob) until the next one ends.
 * Rows a crashed sweep left "marked" stay so after a later sweep cleared the flag; harmless:
 * S3 only ever uses the etag its own S1 got.
 * What the epoch cannot see, and the per-blob claim did: a reference written by a push that
 * lost to a sweep (its P2 failed) and has not yet undone it, or crashed before undoing it. A
 * later push that finds that manifest or link would be acknowledged over the missing blob.
 * The window is that push's undo (one call) or a crash at that point, of a push that
 * overlapped a sweep deleting the very blob it reused.
 *
 * Crash safety: every step is idempotent. A crash leaves rows "marked" (the next sweep treats
 * them as candidates again) or "deleting" (the next sweep finishes them: links, bytes, row).
 * Memory: the index is read a page at a time; candidates are handled in batches of at most
 * `batchSize`, and each batch scans the manifests (twice: once to leave referenced blobs
 * unmarked, once after marking), keeping only its own digests.
 * One sweep at a time (LifecycleService holds a lease): a second sweep that had resumed the
 * same "deleting" row could otherwise remove the links of a blob pushed again after the first
 * one finished it, and could clear "marking" while the first still marks. (If a lease is lost
 * and a second sweep begins, the first one's S4 finds the epoch changed and leaves the flag
 * set; the second one's S4 clears it, which is only sound if the first one has stopped.)
 */
export interface SweepOptions {
  /** Blobs created, uploaded again or mounted more recently than this are kept. */
  graceMs: number;
  /** Report what would be deleted; change nothing. */
  dryRun: boolean;
  /** Candidates handled at once (bounds memory). */
  batchSize: number;
  now: () => number;
}

export interface SweepReport {
  /** Index rows looked at. */
  scanned: number;
  /** Manifest rows read (twice per batch: before and after marking). */
  manifestsRead: number;
  /** Blobs deleted (or that would be), with their bytes. */
  blobs: { count: number; bytes: number };
  /** Repository links removed with them. */
  links: number;
  /** Candidates still referenced by a manifest. */
  referenced: number;
  /** Candidates a concurrent push claimed during the sweep. */
  claimed: number;
}

const CONCURRENCY = 16;

export class BlobSweeper {
  constructor(
    private readonly store: CollectionStore,
    private readonly blobs: BlobStore,
  ) {}

  async sweep(options: SweepOptions): Promise<SweepReport> {
    const report: SweepReport = {
      scanned: 0,
      manifestsRead: 0,
      blobs: { count: 0, bytes: 0 },
      links: 0,
      referenced: 0,
      claimed: 0,
    };
    const cutoff = new Date(options.now() - options.graceMs).toISOString();
    // S0: pushes claim blob by blob from now on (a dry run marks nothing)
    const marking = options.dryRun ? undefined : await this.store.beginMarking();
    let batch: IndexedBlob[] = [];
    for await (const page of this.store.blobIndexPages(1000)) {
      for (const row of page) {
        report.scanned++;
        // "deleting": a sweep that crashed after deciding; finish it whatever its age
        if (row.state === "deleting" || row.touchedAt < cutoff) batch.push(row);
      }
      if (batch.length >= options.batchSize) {
        await this.collect(batch, options, report);
        batch = [];
      }
    }
    if (batch.length > 0) await this.collect(batch, options, report);
    // S4, only after a complete run: a sweep that threw may have left rows "deleting"
    if (marking) await this.store.endMarking(marking);
    return report;
  }

  private async collect(batch: IndexedBlob[], options: SweepOptions, report: SweepReport): Promise<void> {
    const resumed = batch.filter((row) => row.state === "deleting");
    const fresh = batch.filter((row) => row.state !== "deleting");
    if (options.dryRun) {
      const referenced = await this.referencedAmong(new Set(fresh.map((r) => r.digest)), report);
      report.referenced += referenced.size;
      for (const row of [...resumed, ...fresh.filter((r) => !referenced.has(r.digest))]) count(report, row);
      return;
    }
    // Not part of the protocol, only economy: blobs referenced before the marks are left
    // unmarked (most of a steady registry), so a sweep writes only for likely garbage.
    const before = await this.referencedAmong(new Set(fresh.map((r) => r.digest)), report);
    report.referenced += before.size;
    const unreferenced = fresh.filter((row) => !before.has(row.digest));
    // S1: mark (a row changed since the index was read is skipped: someone is using it)
    const marks = new Map<string, { row: IndexedBlob; etag: string }>();
    await mapLimit(unreferenced, CONCURRENCY, async (row) => {
      const etag = await this.store.setBlobState(row.digest, "marked", row.etag);
      if (etag) marks.set(row.digest, { row, etag });
    });
    // S2: scan every manifest, after every mark of the batch is in place
    const referenced = await this.referencedAmong(new Set(marks.keys()), report);
    // S3: keep what is referenced, move the rest to "deleting" unless a push claimed it
    const doomed: IndexedBlob[] = [...resumed];
    await mapLimit([...marks.values()], CONCURRENCY, async ({ row, etag }) => {
      if (referenced.has(row.digest)) {
        report.referenced++;
        await this.store.setBlobState(row.digest, "", etag); // a failure means a push cleared it already
        return;
      }
      const deleting = await this.store.setBlobState(row.digest, "deleting", etag);
      if (deleting) doomed.push({ ...row, state: "deleting", etag: deleting });
      else report.claimed++;
    });
    if (doomed.length === 0) return;
    // from here on the decision stands: links first, then bytes, then the row (a rerun resumes)
    const digests = new Set(doomed.map((row) => row.digest));
    for await (const page of this.store.linkPages()) {
      const links = page.filter((link) => digests.has(link.digest));
      await mapLimit(links, CONCURRENCY, (link) => this.store.deleteLink(link.repository, link.digest));
      report.links += links.length;
    }
    await mapLimit(doomed, CONCURRENCY, async (row) => {
      await this.blobs.delete(row.blobName);
      await this.store.deleteBlobRow(row.digest, row.etag);
      count(report, row);
    });
  }

  /** The candidates that some manifest of some repository references. */
  private async referencedAmong(candidates: Set<string>, report: SweepReport): Promise<Set<string>> {
    const found = new Set<string>();
    if (candidates.size === 0) return found;
    for await (const page of this.store.manifestPages()) {
      report.manifestsRead += page.length;
      await mapLimit(page, CONCURRENCY, async (row) => {
        for (const blob of (await referencesOf(row, this.blobs)).blobs)
          if (candidates.has(blob.digest)) found.add(blob.digest);
      });
    }
    return found;
  }
}

function count(report: SweepReport, row: IndexedBlob): void {
  report.blobs.count++;
  report.blobs.bytes += row.size;
}
