import type { BlobStore } from "../storage/ports/blob-store.js";
import type { MetadataStore, UploadSession } from "../storage/ports/metadata-store.js";
import { uploadBlobName } from "./blob-names.js";
import { RegistryError } from "./errors.js";

export interface AdmissionOptions {
  /** Unfinished uploads one repository may have open. */
  maxUploadsPerRepository: number;
  /** Sessions started longer ago than this no longer count. */
  uploadTtlMs: number;
  now: () => number;
}

/**
 * An upload's row is written just before its first bytes (POST stores nothing), under the
 * per-repository limit on unfinished uploads.
 */
export class UploadAdmission {
  constructor(
    private readonly blobs: BlobStore,
    private readonly metadata: MetadataStore,
    private readonly options: AdmissionOptions,
  ) {}

  /**
   * Records the session, counting the repository's other open ones in parallel; past the
   * limit TOOMANYREQUESTS, and nothing may be written. Concurrent first PATCHes may overshoot
   * it by how many are in flight. True if this call made the row.
   */
  async admit(session: UploadSession): Promise<boolean> {
    const limit = this.options.maxUploadsPerRepository;
    const now = this.options.now();
    // counted from admission, not from POST: a row let in late in its TTL still counts in full
    const since = new Date(now - this.options.uploadTtlMs).toISOString();
    const [inserted, open] = await Promise.all([
      this.metadata.createUpload(session, new Date(now).toISOString()),
      this.metadata.countUploads(session.repository, session.id, since, limit),
    ]);
    if (open < limit) return inserted;
    // a row another first PATCH of this upload made is that request's to keep
    if (inserted) await this.metadata.deleteUpload(session);
    throw new RegistryError("TOOMANYREQUESTS", "too many unfinished uploads in this repository", {
      limit,
      retryAfterSeconds: 60,
    });
  }

  /**
   * After a first write was refused because the upload's blob exists: whether that is another
   * request's first bytes (the upload is open), rather than a cancel's blob (empty, or frozen
   * and marked cancelled: the row `inserted` by this request then goes again) or a
   * completion's frozen bytes (the row stays: it may be that completion's).
   */
  async stillOpen(session: UploadSession, inserted: boolean): Promise<boolean> {
    const note = (await this.blobs.stat(uploadBlobName(session.id)))?.note;
    if (note && !note.frozen) return true;
    // a completion's frozen bytes may be the request's that won this write: its row stays
    if (inserted && (!note?.frozen || note.cancelled)) await this.metadata.deleteUpload(session);
    return false;
  }
}
