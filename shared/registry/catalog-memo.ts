import { LRUCache } from "lru-cache";

/** How long a catalog row this instance wrote counts as written (see CatalogMemo). */
export const CATALOG_MEMO_TTL_MS = 10_000;
/** Repositories remembered at once; the least recently pushed go first. */
const MAX_REPOSITORIES = 10_000;

/**
 * Repositories whose catalog row this instance wrote moments ago, so that a re-tag (a CI
 * pushing tags onto a manifest already stored) can skip the upsert: 2 storage calls per
 * re-tag instead of 3.
 *
 * Each entry keeps the sweep epoch row's `removals` as read before the write (a push's P0).
 * Every removal from the catalog, on any instance or the CLI, deletes the row and then
 * changes that value; a re-tag reads it after its commit anyway (P2'), and skips the upsert
 * only if it is unchanged, so no removal happened between the remembered write and the
 * re-tag's commit (else it upserts, one round trip later). Left open: a removal whose row
 * is gone but whose change is not yet written, while a re-tag both commits and reads; that
 * is garbage collection's drop of an empty repository, which checks again after the change
 * and puts the row back, or a repository deletion racing a push of the same manifest, which
 * could leave the pushed rows unlisted before this memo existed.
 */
export class CatalogMemo {
  private readonly written = new LRUCache<string, { until: number; removals: string }>({ max: MAX_REPOSITORIES });

  constructor(
    private readonly now: () => number,
    private readonly ttlMs = CATALOG_MEMO_TTL_MS,
  ) {}

  /** True if this instance wrote the repository's catalog row within the expiry. */
  fresh(repository: string): boolean {
    const entry = this.written.get(repository);
    return entry !== undefined && entry.until > this.now();
  }

  /** True if that write is fresh and no removal from the catalog has happened since (`removals` unchanged). */
  stands(repository: string, removals: string): boolean {
    return this.fresh(repository) && this.written.get(repository)?.removals === removals;
  }

  /** The repository's catalog row was just written; `removals` as read before the write. */
  wrote(repository: string, removals: string): void {
    if (this.ttlMs > 0) this.written.set(repository, { until: this.now() + this.ttlMs, removals });
  }

  forget(repository: string): void {
    this.written.delete(repository);
  }
}
