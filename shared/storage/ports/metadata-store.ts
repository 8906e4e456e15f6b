/**
 * Metadata: the blob index, per-repository links, manifests, tags, uploads and the catalog.
 * The Azure Table implementation is storage/azure/azure-metadata-store.ts.
 */

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
  /** Cancelled: kept only so garbage collection finds its bytes once the TTL has passed. */
  cancelled?: boolean;
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

  /**
   * Records the session unless a row for it exists already (another first write of the same
   * upload), which is then left as it is. True if this call recorded it. `admittedAt` (ISO
   * time): when its first bytes were let in, from which it counts toward the limit.
   */
  createUpload(session: UploadSession, admittedAt: string): Promise<boolean>;
  /** The session, or undefined unless it is open (never recorded, finished or cancelled). */
  getUpload(repository: string, id: string): Promise<UploadSession | undefined>;
  /** Removes the session's row (its cancel marker, when `cancelled`); gone already is fine. */
  deleteUpload(session: UploadSession): Promise<void>;
  /**
   * Replaces the session's row, if any, by a cancel marker, atomically: getUpload no longer
   * finds it, countUploads no longer counts it, completeUpload fails on it, and it is listed
   * (as `cancelled`) until garbage collection removes it.
   */
  cancelUpload(session: UploadSession): Promise<void>;
  /** Open sessions of the repository other than `except` admitted at or after `since` (ISO time), counted up to `atMost`. */
  countUploads(repository: string, except: string, since: string, atMost: number): Promise<number>;
  /** Sessions of every repository started before `before` (ISO time): abandoned or cancelled uploads. */
  listUploadsStartedBefore(before: string): Promise<UploadSession[]>;
  /** Links the finished blob and removes the session, atomically. */
  completeUpload(repository: string, id: string, record: BlobRecord): Promise<void>;

  getManifest(repository: string, digest: string): Promise<ManifestRecord | undefined>;
  /**
   * Stores a manifest and, if given, points a tag at it, atomically (with its entry in the
   * referrers index when it has a subject).
   */
  putManifest(repository: string, manifest: ManifestRecord, tag?: string): Promise<void>;
  /**
   * putManifest, only if the manifest is already stored: the check and the writes are one
   * atomic commit. False, with nothing written, when it is not.
   */
  putManifestIfStored(repository: string, manifest: ManifestRecord, tag?: string): Promise<boolean>;
  /** Removes a manifest, every tag pointing at it and its referrers entry; false if unknown. */
  deleteManifest(repository: string, digest: string): Promise<boolean>;
  /** Removes one tag (not the manifest); false if unknown. */
  deleteTag(repository: string, tag: string): Promise<boolean>;
  /** Manifests in the repository whose subject is `subject`. */
  listReferrers(repository: string, subject: string): Promise<ReferrerRecord[]>;
  /** A tag and what it points at; `content: false` leaves out the manifest a small one carries (a HEAD). */
  getTag(repository: string, tag: string, options?: { content: boolean }): Promise<TagRecord | undefined>;
  listTags(repository: string, after: string | undefined, limit: number): Promise<Page<string>>;

  /** Adds a repository to the catalog (idempotent). */
  addRepository(repository: string): Promise<void>;
  hasRepository(repository: string): Promise<boolean>;
  listRepositories(after: string | undefined, limit: number): Promise<Page<string>>;
}
