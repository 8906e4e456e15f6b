import { LRUCache } from "lru-cache";

/**
 * How long an instance may serve a manifest by digest from memory without asking storage
 * whether it still exists: a manifest deleted (or garbage-collected) through another instance
 * stops being served within this bound; on the instance that deleted it, at once.
 */
export const MANIFEST_CACHE_TTL_MS = 10_000;
/** Memory the cache may hold, all entries together; larger manifests are not cached. */
const MAX_BYTES = 32 * 1024 * 1024;
const MAX_ENTRY_BYTES = 1024 * 1024;
/** Per entry, besides its bytes: keys, media type, the entry object. */
const OVERHEAD_BYTES = 512;

export interface CachedManifest {
  digest: string;
  mediaType: string;
  content: Uint8Array;
}

/**
 * Manifest content by (repository, digest), per instance: content addressed, so it never
 * changes, only disappears. Bounded in bytes (least recently used go first) and in time (the
 * TTL above), so deletes and repository links are respected: an entry serves only the
 * repository it was read from, misses are not cached (a push is visible at once), and a
 * delete here drops it here.
 */
export class ManifestCache {
  private readonly entries = new LRUCache<string, CachedManifest & { until: number }>({
    maxSize: MAX_BYTES,
    maxEntrySize: MAX_ENTRY_BYTES + OVERHEAD_BYTES,
    sizeCalculation: (entry) => entry.content.byteLength + OVERHEAD_BYTES,
  });

  constructor(
    private readonly now: () => number,
    private readonly ttlMs = MANIFEST_CACHE_TTL_MS,
  ) {}

  get(repository: string, digest: string): CachedManifest | undefined {
    const key = keyOf(repository, digest);
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until > this.now()) return entry;
    this.entries.delete(key);
    return undefined;
  }

  set(repository: string, manifest: CachedManifest): void {
    if (this.ttlMs <= 0 || manifest.content.byteLength > MAX_ENTRY_BYTES) return;
    this.entries.set(keyOf(repository, manifest.digest), { ...manifest, until: this.now() + this.ttlMs });
  }

  forget(repository: string, digest: string): void {
    this.entries.delete(keyOf(repository, digest));
  }

  /** Drops every entry of a repository (it was deleted). */
  forgetRepository(repository: string): void {
    const prefix = keyOf(repository, "");
    for (const key of [...this.entries.keys()]) if (key.startsWith(prefix)) this.entries.delete(key);
  }
}

/** `@` cannot occur in a repository name. */
function keyOf(repository: string, digest: string): string {
  return `${repository}@${digest}`;
}
