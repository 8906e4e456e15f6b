import type { BlobStat, BlobStore } from "../storage/ports/blob-store.js";
import { ConcurrentUpdateError } from "../storage/ports/errors.js";
import type { MetadataStore, UploadSession } from "../storage/ports/metadata-store.js";
import { uploadBlobName } from "./blob-names.js";
import { RegistryError } from "./errors.js";
import { finishHash } from "./upload-hashing.js";

/** How long past the TTL the purge waits: a completion let in just before it may still be indexing. */
const PURGE_MARGIN_MS = 15 * 60_000;

/** Reads and conditional writes a cancel makes before giving up on a busy upload. */
const CANCEL_ATTEMPTS = 3;

/**
 * How an upload is forgotten: cancelled (DELETE, or a completion under a wrong digest),
 * discarded once expired, or its bytes dropped by the request that wrote them. Bytes the blob
 * index already serves always stay: a completion that indexed them, then failed before
 * removing its session (a crash, a storage error), left the index pointing here.
 */
export class UploadDisposal {
  constructor(
    private readonly blobs: BlobStore,
    private readonly metadata: MetadataStore,
  ) {}

  /**
   * A cancel, made final for every state the upload handed out: each write a state can make is
   * conditional on the blob it last saw, so the blob is changed under them, on the condition
   * that nothing wrote since `stored` (the upload's blob, just read) was read. Bytes no
   * completion froze are emptied; frozen ones (a completion under way, or one that failed
   * before indexing) keep their bytes, which it may still index, and are marked cancelled so
   * no retried completion takes them; bytes the index serves are left alone. The row is then
   * replaced by a cancel marker, which goes with the blob once no state can be used (the purge).
   */
  async cancel(session: UploadSession, stored: BlobStat | undefined): Promise<void> {
    const blobName = uploadBlobName(session.id);
    for (let attempt = 1; ; attempt++) {
      const note = stored?.note;
      try {
        if (!stored) await this.blobs.create(blobName, new Uint8Array(0));
        else if (await this.indexed(blobName, await this.storedDigest(session, stored))) break;
        else if (!note?.frozen) await this.blobs.commitBlocks(blobName, [], stored.etag);
        else if (!note.cancelled) await this.blobs.annotate(blobName, { ...note, cancelled: true }, stored.etag);
        break;
      } catch (error) {
        // written meanwhile (a PATCH, or a completion freezing the bytes): decide again
        if (!(error instanceof ConcurrentUpdateError)) throw error;
        if (attempt === CANCEL_ATTEMPTS)
          throw new RegistryError("BLOB_UPLOAD_INVALID", "the upload kept changing while it was cancelled; try again");
        stored = await this.blobs.stat(blobName);
      }
    }
    await this.metadata.cancelUpload(session);
  }

  /**
   * Forgets every session started before `expiredAt` (ms; the TTL ago) and a margin, with its
   * bytes (`dryRun`: only lists them), each with `offset` set to the bytes stored for it (a
   * row does not follow the upload's progress, the state in its URL does). Safe while the
   * registry runs: a client still using one would be refused anyway, a completion let in just
   * before the TTL has the margin to index its bytes, and bytes the blob index serves are kept.
   */
  async purge(expiredAt: number, dryRun: boolean): Promise<UploadSession[]> {
    const expired = await this.metadata.listUploadsStartedBefore(new Date(expiredAt - PURGE_MARGIN_MS).toISOString());
    const purged: UploadSession[] = [];
    for (const session of expired) {
      const stored = await this.blobs.stat(uploadBlobName(session.id));
      if (!dryRun) await this.discard(session, stored);
      purged.push({ ...session, offset: stored?.size ?? 0 });
    }
    return purged;
  }

  /** Forgets a session and its bytes (`stored`, as just read), once no state of it can be used. */
  private async discard(session: UploadSession, stored: BlobStat | undefined): Promise<void> {
    await this.metadata.deleteUpload(session);
    await this.dropUnlessIndexed(uploadBlobName(session.id), await this.storedDigest(session, stored));
  }

  /** Deletes an upload's bytes unless the blob index serves them as `digest` (or they no longer have `ifMatch`). */
  async dropUnlessIndexed(blobName: string, digest: string | undefined, ifMatch?: string): Promise<void> {
    if (!(await this.indexed(blobName, digest))) await this.blobs.delete(blobName, ifMatch);
  }

  /** The digest recorded with an upload's bytes, else the one its state describes. */
  private async storedDigest(session: UploadSession, stored: BlobStat | undefined): Promise<string | undefined> {
    return stored?.note?.digest ?? (await finishHash(session)).digestSoFar;
  }

  private async indexed(blobName: string, digest: string | undefined): Promise<boolean> {
    return digest !== undefined && (await this.metadata.getBlob(digest))?.blobName === blobName;
  }
}
