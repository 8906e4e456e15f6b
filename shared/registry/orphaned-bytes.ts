import type { CollectionStore } from "../storage/ports/collection-store.js";
import { mapLimit } from "../lib/map-limit.js";

/**
 * Upload bytes nothing owns: `blobs/<upload id>` that no blob-index row serves and no upload
 * session holds. They are left by a request whose session went away under it (the purge of an
 * expired upload racing a PATCH) or by a process that died between writing bytes and indexing them.
 *
 * Why deleting them cannot race a completion: bytes are only ever indexed by the completion of
 * their own upload, and a session completes only within the upload TTL of its start (later, it
 * is refused as expired), while its bytes are written after it started. So bytes last written
 * before `now - TTL - grace` belong to no session that can still complete; the grace absorbs a
 * completion that was let in just before the TTL and indexes a little after it (rehashing a
 * large blob), and clock skew between storage's timestamps and ours. Uploads that bring their
 * whole blob in one request (no row) index their bytes one call after writing them. The index is read before the
 * bytes are listed, so every row that could point at old bytes is already in it.
 *
 * Memory: the names the index points at are kept as 52-bit numbers (the first 13 hex digits of
 * the upload id) in one sorted Float64Array: 8 bytes a blob, 16 while the array grows, so at
 * most 16 MB per million blobs; the container is listed a page (1,000 names) at a time. Two
 * names sharing a prefix (a 1 in 2^52 chance a pair) only ever keep bytes, never delete them.
 */
export interface OrphanedBytesReport {
  count: number;
  bytes: number;
  /** On a dry run, the first names found (at most `LISTED`), for an operator to look at. */
  blobNames: string[];
}

export interface OrphanedBytesOptions {
  /** Only bytes last written before this (ISO): now - upload TTL - grace. */
  before: string;
  /** Upload ids whose session row still exists (an expired one not yet purged, on a dry run). */
  sessions: Set<string>;
  dryRun: boolean;
}

/** Names a dry run reports (the counts cover all of them). */
const LISTED = 1000;
const CONCURRENCY = 16;
/** The only names this pass may delete: what uploadBlobName makes of a 128-bit random id. */
const UPLOAD_BYTES = /^blobs\/([0-9a-f]{32})$/;

export async function collectOrphanedBytes(
  store: CollectionStore,
  options: OrphanedBytesOptions,
): Promise<OrphanedBytesReport> {
  const report: OrphanedBytesReport = { count: 0, bytes: 0, blobNames: [] };
  const indexed = await indexedUploads(store);
  for await (const page of store.bytesPages("blobs/", options.before)) {
    const orphans = page.filter((item) => {
      const id = UPLOAD_BYTES.exec(item.blobName)?.[1];
      return id !== undefined && !options.sessions.has(id) && !indexed.has(keyOf(id));
    });
    for (const orphan of orphans) {
      report.count++;
      report.bytes += orphan.size;
      if (options.dryRun && report.blobNames.length < LISTED) report.blobNames.push(orphan.blobName);
    }
    if (!options.dryRun) await mapLimit(orphans, CONCURRENCY, (orphan) => store.deleteBytes(orphan.blobName));
  }
  return report;
}

/** The upload ids the blob index serves bytes from, as a sorted set of 52-bit keys. */
async function indexedUploads(store: CollectionStore): Promise<{ has(key: number): boolean }> {
  let keys = new Float64Array(1024);
  let size = 0;
  for await (const page of store.blobIndexPages(1000)) {
    for (const row of page) {
      const id = UPLOAD_BYTES.exec(row.blobName)?.[1];
      if (id === undefined) continue;
      if (size === keys.length) {
        const grown = new Float64Array(keys.length * 2);
        grown.set(keys);
        keys = grown;
      }
      keys[size++] = keyOf(id);
    }
  }
  const sorted = keys.subarray(0, size).sort();
  return {
    has(key) {
      let low = 0;
      let high = sorted.length - 1;
      while (low <= high) {
        const middle = (low + high) >>> 1;
        const found = sorted[middle] as number;
        if (found === key) return true;
        if (found < key) low = middle + 1;
        else high = middle - 1;
      }
      return false;
    },
  };
}

/** 13 hex digits: 52 bits, exact in a double. */
function keyOf(id: string): number {
  return parseInt(id.slice(0, 13), 16);
}
