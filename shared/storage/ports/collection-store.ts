/**
 * What garbage collection, retention, repository deletion and usage need from storage, and
 * the one call pushes make so that a concurrent sweep never deletes a blob they reference
 * (the argument is in shared/registry/blob-sweeper.ts). The Azure implementation is
 * storage/azure/azure-collection-store.ts.
 */

/** Where a blob-index row stands in a sweep. */
export type SweepState = "" | "marked" | "deleting";

/** One blob-index row as a sweep sees it. */
export interface IndexedBlob {
  digest: string;
  blobName: string;
  size: number;
  state: SweepState;
  /** When a push last created, uploaded again or mounted it (ISO). */
  touchedAt: string;
  /** The row's version: every state change is conditional on it. */
  etag: string;
}

/** A manifest row of some repository, with its bytes when stored inline. */
export interface StoredManifestRow {
  repository: string;
  digest: string;
  mediaType: string;
  size: number;
  createdAt: string;
  subject?: string;
  content?: Uint8Array;
  blobName?: string;
}

export interface TagRow {
  repository: string;
  tag: string;
  digest: string;
  /** When the tag was last pointed (the row's last write). */
  updatedAt: string;
}

/** A held single-instance lease; `release` is idempotent. */
export interface Lease {
  release(): Promise<void>;
}

/** The sweep epoch row: how many sweeps have begun marking, and whether one is marking now. */
export interface SweepEpoch {
  epoch: number;
  marking: boolean;
  /**
   * Changes (to a value never used before) each time a repository is taken out of the
   * catalog, before and after its row goes: an instance that remembers writing a catalog row
   * tells from it whether the row may have been removed since (catalog-memo.ts). Empty when
   * unknown (never set, or reset by an older version's sweep): no memo stands on it.
   */
  removals: string;
}

/** A blob in the container (for bytes no index row or upload owns any more). */
export interface StoredBytes {
  blobName: string;
  lastModified: string;
  size: number;
}

export interface CollectionStore {
  /**
   * A push references the blob: true if its index row stands and is not being deleted. A row
   * marked by a sweep is taken back (the mark is cleared under its etag, so the sweep's
   * conditional delete fails); `touchAt` also records the time as the last reference.
   */
  claimBlob(digest: string, touchAt?: string): Promise<boolean>;

  /**
   * One point read: the sweep epoch (a push reads it before and after writing its manifest,
   * and claims its blobs one by one only if a sweep was marking in between; blob-sweeper.ts).
   */
  sweepEpoch(): Promise<SweepEpoch>;
  /** Before a sweep marks anything: epoch + 1, marking. A token for `endMarking`. */
  beginMarking(): Promise<string>;
  /** After the sweep finished: clears `marking`, unless another sweep began since `token`. */
  endMarking(token: string): Promise<void>;

  /** The blob index, a page at a time (bounded memory). */
  blobIndexPages(pageSize: number): AsyncIterable<IndexedBlob[]>;
  /** Moves a row to `state` if it still has `etag`; the new etag, or undefined if it changed or vanished. */
  setBlobState(digest: string, state: SweepState, etag: string): Promise<string | undefined>;
  /** Deletes an index row still at `etag` (after its bytes and links are gone); idempotent. */
  deleteBlobRow(digest: string, etag: string): Promise<void>;

  /** Every manifest row of every repository (or of one), a page at a time. */
  manifestPages(repository?: string): AsyncIterable<StoredManifestRow[]>;
  /** Every tag row of one repository. */
  tagRows(repository: string): Promise<TagRow[]>;
  /** Every repository link, a page at a time. */
  linkPages(): AsyncIterable<{ repository: string; digest: string }[]>;
  deleteLink(repository: string, digest: string): Promise<void>;

  /** Bytes under `prefix` in the container last written before `before` (ISO), a page at a time. */
  bytesPages(prefix: string, before: string): AsyncIterable<StoredBytes[]>;
  deleteBytes(blobName: string): Promise<void>;

  /** True when the repository has neither manifests nor tags. */
  isRepositoryEmpty(repository: string): Promise<boolean>;
  /** Takes a repository out of the catalog (idempotent), changing the epoch row's `removals` before and after. */
  removeFromCatalog(repository: string): Promise<void>;
  /** Changes the epoch row's `removals` to a value never used before: no catalog memo stands after it. */
  changeRemovals(): Promise<void>;
  /** Deletes a repository's tags, manifests, referrers and links (uploads expire on their own); the count. */
  deleteRepositoryRows(repository: string): Promise<number>;

  /** A lease only one process holds at a time (renewed while held), or undefined if taken. */
  acquireLease(name: string): Promise<Lease | undefined>;
}
