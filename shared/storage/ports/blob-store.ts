/**
 * Bytes in object storage. Blob names are chosen by the registry (see registry/blob-names.ts);
 * the Azure implementation is storage/azure/azure-blob-store.ts.
 */
/** What the registry keeps with an upload's bytes, written in the same call as they are. */
export interface BlobNote {
  /** Digest of the whole content. */
  digest: string;
  /** Saved hash state of the whole content, when a later chunk may continue it. */
  hashState?: string;
  /** The bytes are final: this etag must never be handed to a writer. */
  frozen?: boolean;
  /** Frozen bytes whose upload was cancelled before they were indexed: no completion may take them. */
  cancelled?: boolean;
}

export interface BlobStat {
  etag: string;
  size: number;
  /** Absent for blobs written without one. */
  note?: BlobNote;
}

export interface BlobStore {
  /** Stages one block of a blob that is being assembled; invisible until committed. */
  stageBlock(blobName: string, blockId: string, data: Uint8Array): Promise<void>;
  /** Block ids that make up the committed content of a blob, in order ([] if it does not exist). */
  committedBlocks(blobName: string): Promise<string[]>;
  /**
   * Makes `blockIds` the blob's content, atomically. `ifMatch` guards against a concurrent writer
   * (pass the etag this writer last saw; `null` means the blob must not exist yet).
   * Returns the new etag; throws ConcurrentUpdateError when the guard fails.
   * `note`: kept with the new content (stat).
   */
  commitBlocks(blobName: string, blockIds: string[], ifMatch: string | null, note?: BlobNote): Promise<string>;
  /**
   * Writes a whole blob in one call if it does not exist yet (a small upload: one request
   * instead of stage + commit). Returns its etag; throws ConcurrentUpdateError if it exists.
   */
  create(blobName: string, data: Uint8Array, note?: BlobNote): Promise<string>;
  /**
   * Replaces the blob's note if it still has etag `ifMatch`, which changes its etag: whoever
   * holds the old one can no longer write. Returns the new etag; ConcurrentUpdateError otherwise.
   */
  annotate(blobName: string, note: BlobNote, ifMatch: string): Promise<string>;
  /** The blob's etag, size and note; undefined when there is no blob. */
  stat(blobName: string): Promise<BlobStat | undefined>;
  /** Writes a small blob in one call (manifests too large to keep inline). */
  put(blobName: string, data: Uint8Array): Promise<void>;
  /** Streams `length` bytes from `offset` (to the end when length is undefined). */
  read(blobName: string, offset?: number, length?: number): Promise<ReadableStream<Uint8Array>>;
  readAll(blobName: string): Promise<Uint8Array>;
  /**
   * Removes the blob, and blocks staged for it but never committed; nothing if neither exists.
   * `ifMatch`: only if the blob still has this etag (otherwise nothing happens); blocks
   * staged for it are then left to its next commit.
   */
  delete(blobName: string, ifMatch?: string): Promise<void>;
  /**
   * Drops blocks staged for a blob that was never committed (Azure Storage would keep them a
   * week); a committed blob, and what is staged for it, is left alone.
   */
  discardStaged(blobName: string): Promise<void>;
  /** A short-lived, read-only URL clients can fetch directly, or undefined if not possible. */
  signedReadUrl(blobName: string, ttlSeconds: number): Promise<string | undefined>;
}
