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
 * Each entry keeps the sweep epoch row's `removals` as read before the write (the push's P0,
 * or its P2' for an upsert made after it). Every removal from the catalog, on any instance or
 * the CLI, changes that value before and after deleting the row. A re-tag skips the upsert
 * only if the value is unchanged at its P0 and at its P2' (read after its commit anyway), so
 * no removal happened between the remembered write and the commit; else it upserts (after
 * P2' if only that read showed the change). An empty value is unknown and never stands
 * (never set yet, or reset by an older version's sweep during an upgrade): the push that
 * reads it sets one. Left open: a removal that deleted the row and has not yet changed the
 * value when a re-tag reads P2'. Garbage collection's drop of an empty repository checks
 * again after the change and puts the row back; a repository deletion racing a push of the
 * same manifest could leave those rows unlisted before this memo existed too.
 */
export class CatalogMemo {
  private readonly written = new LRUCache<string, { until: number; removals: string }>({ max: MAX_REPOSITORIES });

  constructor(
    private readonly now: () => number,
    private readonly ttlMs = CATALOG_MEMO_TTL_MS,
  ) {}

  /** True if this instance wrote the row within the expiry and nothing left the catalog since (`removals` unchanged). */
  stands(repository: string, removals: string): boolean {
    const entry = this.written.get(repository);
    return removals !== "" && entry !== undefined && entry.until > this.now() && entry.removals === removals;
  }

  /** The repository's catalog row was just written; `removals` as read before the write. */
  wrote(repository: string, removals: string): void {
    if (this.ttlMs > 0) this.written.set(repository, { until: this.now() + this.ttlMs, removals });
  }

  forget(repository: string): void {
    this.written.delete(repository);
  }
}
