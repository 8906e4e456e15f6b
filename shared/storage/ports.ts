/**
 * Storage ports: what the registry service needs from storage, and nothing about how it is
 * stored. The Azure implementations live in ./azure; the service never imports an Azure SDK.
 */

/** Bytes in object storage. Blob names are chosen by the service (see registry/blob-names.ts). */
export interface BlobStore {
  /** Stages one block of a blob that is being assembled; invisible until committed. */
  stageBlock(blobName: string, blockId: string, data: Uint8Array): Promise<void>;
  /** Block ids that make up the committed content of a blob, in order ([] if it does not exist). */
  committedBlocks(blobName: string): Promise<string[]>;
  /**
   * Makes `blockIds` the blob's content, atomically. `ifMatch` guards against a concurrent writer
   * (pass the etag this writer last saw; `null` means the blob must not exist yet).
   * Returns the new etag; throws ConcurrentUpdateError when the guard fails.
   */
  commitBlocks(blobName: string, blockIds: string[], ifMatch: string | null): Promise<string>;
  /** Writes a small blob in one call (manifests too large to keep inline). */
  put(blobName: string, data: Uint8Array): Promise<void>;
  /** Streams `length` bytes from `offset` (to the end when length is undefined). */
  read(blobName: string, offset?: number, length?: number): Promise<ReadableStream<Uint8Array>>;
  readAll(blobName: string): Promise<Uint8Array>;
  delete(blobName: string): Promise<void>;
  /** A short-lived, read-only URL clients can fetch directly, or undefined if not possible. */
  signedReadUrl(blobName: string, ttlSeconds: number): Promise<string | undefined>;
}

/** Thrown by stores when an optimistic-concurrency guard (etag) fails. */
export class ConcurrentUpdateError extends Error {
  constructor(what: string) {
    super(`concurrent update of ${what}`);
    this.name = "ConcurrentUpdateError";
  }
}

/** Where a committed blob's bytes live, and how many there are. */
export interface BlobRecord {
  digest: string;
  blobName: string;
  size: number;
}

/** An in-progress upload. Stored between requests so any instance can continue it. */
export interface UploadSession {
  repository: string;
  id: string;
  /** Bytes received so far (the next chunk must start here). */
  offset: number;
  /** Etag of the upload's blob after the last commit, or null before any data arrived. */
  blobEtag: string | null;
  /** Saved SHA-256 state of the bytes so far, when a later chunk must continue the hash. */
  hashState?: string;
  /** Digest of exactly the bytes so far, when they were hashed in one go. */
  digestSoFar?: string;
  startedAt: string;
}

export interface ManifestRecord {
  digest: string;
  mediaType: string;
  size: number;
  /** The manifest bytes when small enough to keep inline in the metadata row. */
  content?: Uint8Array;
  /** Otherwise, the blob that holds them. */
  blobName?: string;
  subject?: string;
  artifactType?: string;
  /** Kept for the referrers API (descriptors there carry the referrer's annotations). */
  annotations?: Record<string, string>;
  createdAt: string;
}

/** A manifest that names another as its `subject`, as the referrers API lists it. */
export interface ReferrerRecord {
  digest: string;
  mediaType: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface TagRecord {
  tag: string;
  digest: string;
  mediaType: string;
  size: number;
  /** The manifest bytes, when kept inline: a GET by tag is then a single read. */
  content?: Uint8Array;
}

export interface Page<T> {
  items: T[];
  /** True when more items follow the last one returned. */
  more: boolean;
}

/** Metadata: the blob index, per-repository links, manifests, tags, uploads and the catalog. */
export interface MetadataStore {
  getBlob(digest: string): Promise<BlobRecord | undefined>;
  /** Records a blob; returns the record that stands (an existing one wins over a duplicate). */
  insertBlob(record: BlobRecord): Promise<BlobRecord>;

  /** The blob as seen from a repository: only when the repository links it. */
  getLinkedBlob(repository: string, digest: string): Promise<BlobRecord | undefined>;
  linkBlob(repository: string, record: BlobRecord): Promise<void>;
  /** Removes a repository's link to a blob; false if it had none. */
  unlinkBlob(repository: string, digest: string): Promise<boolean>;

  createUpload(session: UploadSession): Promise<void>;
  /** The session and its etag, or undefined when unknown (never started, finished or cancelled). */
  getUpload(repository: string, id: string): Promise<{ session: UploadSession; etag: string } | undefined>;
  /** Replaces the session if it still has `etag`; throws ConcurrentUpdateError otherwise. */
  updateUpload(session: UploadSession, etag: string): Promise<void>;
  deleteUpload(repository: string, id: string): Promise<void>;
  /** Sessions of every repository started before `before` (ISO time): abandoned uploads. */
  listUploadsStartedBefore(before: string): Promise<UploadSession[]>;
  /** Links the finished blob and removes the session, atomically. */
  completeUpload(repository: string, id: string, record: BlobRecord): Promise<void>;

  getManifest(repository: string, digest: string): Promise<ManifestRecord | undefined>;
  /**
   * Stores a manifest and, if given, points a tag at it, atomically (with its entry in the
   * referrers index when it has a subject).
   */
  putManifest(repository: string, manifest: ManifestRecord, tag?: string): Promise<void>;
  /** Removes a manifest, every tag pointing at it and its referrers entry; false if unknown. */
  deleteManifest(repository: string, digest: string): Promise<boolean>;
  /** Removes one tag (not the manifest); false if unknown. */
  deleteTag(repository: string, tag: string): Promise<boolean>;
  /** Manifests in the repository whose subject is `subject`. */
  listReferrers(repository: string, subject: string): Promise<ReferrerRecord[]>;
  getTag(repository: string, tag: string): Promise<TagRecord | undefined>;
  listTags(repository: string, after: string | undefined, limit: number): Promise<Page<string>>;

  /** Adds a repository to the catalog (idempotent). */
  addRepository(repository: string): Promise<void>;
  hasRepository(repository: string): Promise<boolean>;
  listRepositories(after: string | undefined, limit: number): Promise<Page<string>>;
}

/** Everything the registry stores, behind its ports. */
export interface Storage {
  blobs: BlobStore;
  metadata: MetadataStore;
}
