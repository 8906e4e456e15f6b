import { LRUCache } from "lru-cache";

/** How long a catalog row this instance wrote counts as written (see CatalogMemo). */
export const CATALOG_MEMO_TTL_MS = 10_000;
/** Repositories remembered at once; the least recently pushed go first. */
const MAX_REPOSITORIES = 10_000;

/**
 * Repositories whose catalog row this instance wrote moments ago, so that a re-tag (a CI
 * pushing tags onto a manifest already stored) can skip the upsert: 2 storage calls per re-tag
 * instead of 3. Only a re-tag may skip it: its batch commits only while the manifest is stored,
 * so the repository was not empty, and a garbage-collection run that dropped the row since
 * found it empty and re-checks after the removal (lifecycle-service.ts); the manifest's first
 * push wrote the row after that. A repository deleted or dropped here is forgotten at once.
 * Should the row go missing some other way (that first push's upsert failed after its commit,
 * and its retry is a re-tag here), the first push after the expiry writes it again.
 */
export class CatalogMemo {
  private readonly written = new LRUCache<string, number>({ max: MAX_REPOSITORIES });

  constructor(
    private readonly now: () => number,
    private readonly ttlMs = CATALOG_MEMO_TTL_MS,
  ) {}

  /** True if this instance wrote the repository's catalog row within the expiry. */
  has(repository: string): boolean {
    const until = this.written.get(repository);
    return until !== undefined && until > this.now();
  }

  /** The repository's catalog row was just written (or found). */
  wrote(repository: string): void {
    if (this.ttlMs > 0) this.written.set(repository, this.now() + this.ttlMs);
  }

  forget(repository: string): void {
    this.written.delete(repository);
  }
}
