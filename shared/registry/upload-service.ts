import { randomBytes } from "node:crypto";
import type { BlobNote, BlobStat, BlobStore } from "../storage/ports/blob-store.js";
import type { CollectionStore } from "../storage/ports/collection-store.js";
import { ConcurrentUpdateError } from "../storage/ports/errors.js";
import type { BlobRecord, MetadataStore, UploadSession } from "../storage/ports/metadata-store.js";
import { uploadBlobName } from "./blob-names.js";
import { blockId, MAX_BLOCK_BYTES, newNonce, writeBlocks, type BlockWriterOptions } from "./block-writer.js";
import type { Body, ChunkRange } from "./body.js";
import { declaredChunk } from "./chunk-length.js";
import { collected, digestMismatch, outOfOrder, RegistryError, unknownUpload } from "./errors.js";
import { fastHasher } from "./hasher.js";
import { nonEmptyBody } from "./non-empty-body.js";
import { parseDigest } from "./references.js";
import { UploadAdmission } from "./upload-admission.js";
import { UploadDisposal } from "./upload-disposal.js";
import { caughtUp, openUploadState, sealUploadState, type Sealer } from "./upload-state.js";
import { continueHash, finishHash, rehash } from "./upload-hashing.js";
import type { StartOptions, StartResult, UploadProgress, UploadRef, Uploads } from "./uploads.js";

/** Verified bytes as frozen in the upload's blob, with the etag they were frozen under. */
type Frozen = { record: BlobRecord; etag: string };

export interface UploadOptions extends BlockWriterOptions {
  /** Mount a blob already in the registry when a client names it without `from`. */
  autoMount: boolean;
  /** An upload not finished this long after it started is gone (BLOB_UPLOAD_UNKNOWN). */
  uploadTtlMs: number;
  /** Unfinished uploads one repository may have open; past it an upload's first PATCH is TOOMANYREQUESTS. */
  maxUploadsPerRepository: number;
  /** The clock (milliseconds since the epoch); tests move it instead of sleeping. */
  now: () => number;
  /** Seals upload states into upload URLs; every instance must verify what any other sealed. */
  sealer: Sealer;
}

/**
 * Blob uploads: every pattern the clients use (monolithic POST, POST then PUT with the body,
 * one streamed PATCH, chunked PATCHes), continued on any instance. Progress (offset, blob
 * etag, hash state) travels sealed in the upload URL, so a PATCH or PUT reads no session row.
 * POST stores nothing: the row is written just before the first PATCH's bytes (an upload
 * finished by the request that brings its bytes never has one) and lives until completion
 * (or, as a cancel marker, until the purge), for the per-repository limit on unfinished
 * uploads, the purge of abandoned ones, and GET and DELETE.
 * Every write to the upload's blob is conditional on the etag the state names (none: the blob
 * must not exist): of two requests holding one state only the first writes, a completion
 * without a body changes the etag (freeze), and a cancel changes the blob too (emptied, or
 * marked when frozen), so no state handed out earlier can alter bytes the blob index serves
 * or write after a cancel.
 */
export class UploadService implements Uploads {
  private readonly disposal: UploadDisposal;
  private readonly admission: UploadAdmission;

  constructor(
    private readonly blobs: BlobStore,
    private readonly metadata: MetadataStore,
    private readonly options: UploadOptions,
    /** Garbage collection's claim on re-used blobs (see blob-sweeper.ts); absent: no sweeps. */
    private readonly collection?: CollectionStore,
  ) {
    this.disposal = new UploadDisposal(blobs, metadata);
    this.admission = new UploadAdmission(blobs, metadata, options);
  }

  /**
   * POST: mount from another repository, upload a whole blob (`digest`), or open a session.
   * `mount.from` must already be known readable by the caller (checked by the HTTP layer).
   */
  async start(repository: string, body: Body, options: StartOptions): Promise<StartResult> {
    if (options.mount) {
      const { digest, from } = options.mount;
      const source =
        from !== undefined
          ? await this.metadata.getLinkedBlob(from, digest)
          : this.options.autoMount
            ? await this.metadata.getBlob(digest)
            : undefined;
      if (source) {
        await this.metadata.linkBlob(repository, source);
        if (await this.claimLinked(repository, source)) return { kind: "blob", record: source, mounted: true };
      }
      // not mountable (unknown, or not in that repository): fall back to a normal upload
    }
    const id = randomBytes(16).toString("hex");
    if (options.digest !== undefined) {
      const blobName = uploadBlobName(id);
      let frozen: Frozen;
      let record: BlobRecord;
      try {
        frozen = await this.writeWhole(id, body, options.digest);
        record = await this.metadata.insertBlob(frozen.record);
      } catch (error) {
        // a fresh blob no session records, so no purge could find it: drop it now (unless the
        // digest was wrong: then nothing was written, and writeWhole dropped what it staged)
        if (!(error instanceof RegistryError && error.code === "DIGEST_INVALID"))
          await this.disposal.dropUnlessIndexed(blobName, options.digest).catch(() => undefined);
        throw error;
      }
      await this.metadata.linkBlob(repository, record);
      await this.adopt(repository, frozen, record);
      return { kind: "blob", record, mounted: false };
    }
    const startedAt = new Date(this.options.now()).toISOString();
    const session: UploadSession = { repository, id, offset: 0, blobEtag: null, startedAt };
    return { kind: "session", id, state: await this.seal(session) };
  }

  /** GET on an upload: how many bytes it holds. */
  async status(upload: UploadRef): Promise<UploadProgress> {
    const session = await this.resolve(upload);
    const stored = await this.openBlob(upload, session);
    const current = caughtUp(session, stored);
    return {
      offset: current.offset,
      state: current === session && upload.state ? upload.state : await this.seal(current),
    };
  }

  /** PATCH: append a chunk (or the whole stream). */
  async append(upload: UploadRef, body: Body, range?: ChunkRange): Promise<UploadProgress> {
    const session = await this.resolve(upload);
    if (range && range.start !== session.offset) throw outOfOrder(session, upload.state);
    // a declared chunk will likely be followed by more: keep a resumable hash
    const chunk = range ? declaredChunk(body, range) : body;
    const next = await this.appendBody(session, upload.state, chunk, range ? "chunk" : "stream");
    return { offset: next.offset, state: next === session && upload.state ? upload.state : await this.seal(next) };
  }

  /** PUT ?digest=: append the final chunk if any, verify the digest, and publish the blob. */
  async complete(upload: UploadRef, digest: string, rawBody: Body): Promise<BlobRecord> {
    const { algorithm } = parseDigest(digest);
    let session = await this.resolve(upload);
    const recorded = session.blobEtag !== null;
    const body = await nonEmptyBody(rawBody);
    // POST then PUT with the whole blob (containerd)
    if (body && session.offset === 0) return this.completeWhole(session, upload.state, digest, body);
    session = body
      ? await this.appendBody(session, upload.state, body, "final")
      : await this.freeze(session, upload.state);
    const blobName = uploadBlobName(session.id);
    const actual =
      algorithm === "sha256" && session.digestSoFar
        ? session.digestSoFar
        : await rehash(this.blobs, session, fastHasher(algorithm));
    if (actual !== digest) {
      // the bytes are frozen: another completion naming the right digest may be indexing them
      await this.disposal.cancel(session, await this.blobs.stat(blobName));
      throw digestMismatch(digest, actual);
    }
    const etag = session.blobEtag as string; // set by the freeze or the final write
    const frozen: Frozen = { record: { digest, blobName, size: session.offset }, etag };
    const record = await this.metadata.insertBlob(frozen.record);
    await this.finish(session, frozen, record, recorded);
    return record;
  }

  /**
   * The whole blob in the completing request: verified, written (one Put Blob when it fits in
   * a block), indexed and linked. A wrong digest writes nothing and leaves the upload open.
   */
  private async completeWhole(
    session: UploadSession,
    state: string | undefined,
    digest: string,
    body: Body,
  ): Promise<BlobRecord> {
    let written: Frozen;
    try {
      written = await this.writeWhole(session.id, body, digest);
    } catch (error) {
      // another request wrote this upload's blob first: its bytes are not ours to drop
      if (error instanceof ConcurrentUpdateError) throw await this.conflict(session, state);
      throw error;
    }
    let record: BlobRecord;
    try {
      record = await this.metadata.insertBlob(written.record);
    } catch (error) {
      // bytes this request wrote, which no row records (when the state had none): drop them now
      await this.disposal.dropUnlessIndexed(written.record.blobName, digest, written.etag).catch(() => undefined);
      throw error;
    }
    await this.finish(session, written, record, session.blobEtag !== null);
    return record;
  }

  /**
   * Links the published blob and removes the session's row, in one transaction. `recorded`:
   * the completing state had bytes stored; without, there is no row to remove (see admit).
   * A blob the registry already had is then claimed from garbage collection.
   */
  private async finish(session: UploadSession, frozen: Frozen, record: BlobRecord, recorded: boolean): Promise<void> {
    try {
      if (recorded) await this.metadata.completeUpload(session.repository, session.id, record);
      else await this.metadata.linkBlob(session.repository, record);
    } catch (error) {
      if (error instanceof ConcurrentUpdateError)
        throw new RegistryError("BLOB_UPLOAD_UNKNOWN", "upload was completed or cancelled concurrently");
      throw error;
    }
    await this.adopt(session.repository, frozen, record);
  }

  /** DELETE on an upload: forget it and its bytes. */
  async cancel(upload: UploadRef): Promise<void> {
    const session = await this.resolve(upload);
    await this.disposal.cancel(session, await this.openBlob(upload, session));
  }

  /** Garbage collection of abandoned and cancelled uploads (see UploadDisposal.purge). */
  purgeExpired(dryRun = false): Promise<UploadSession[]> {
    return this.disposal.purge(this.options.now() - this.options.uploadTtlMs, dryRun);
  }

  /** The upload's progress: from the sealed state in its URL, else (a URL without one) from its row. */
  private async resolve({ repository, id, state }: UploadRef): Promise<UploadSession> {
    const session =
      state === undefined
        ? await this.metadata.getUpload(repository, id)
        : await openUploadState(this.options.sealer, state, repository, id);
    if (!session) throw unknownUpload(id);
    // abandoned: refused, so no client resumes into a half-collected upload; the purge forgets it
    if (this.options.now() - Date.parse(session.startedAt) > this.options.uploadTtlMs)
      throw new RegistryError("BLOB_UPLOAD_UNKNOWN", "upload expired", { id });
    return session;
  }

  /**
   * A URL's state outlives its upload's completion or cancel: where that matters and is rare
   * (GET, DELETE), ask. Open: the row says so, or nothing was written yet (no row, no blob).
   * Returns the upload's blob as stored.
   */
  private async openBlob({ state }: UploadRef, session: UploadSession): Promise<BlobStat | undefined> {
    const [row, stored] = await Promise.all([
      state === undefined ? true : this.metadata.getUpload(session.repository, session.id),
      this.blobs.stat(uploadBlobName(session.id)),
    ]);
    if (row || (session.blobEtag === null && !stored)) return stored;
    throw unknownUpload(session.id);
  }

  /**
   * A write the etag condition refused: another request wrote first (416, where this state
   * stands), or the upload was cancelled and its blob deleted (a read, on this rare path only).
   */
  private async conflict(session: UploadSession, state: string | undefined): Promise<RegistryError> {
    const open = await this.metadata.getUpload(session.repository, session.id);
    return open ? outOfOrder(session, state) : unknownUpload(session.id);
  }

  private seal(session: UploadSession): Promise<string> {
    return sealUploadState(this.options.sealer, session);
  }

  /**
   * Streams `body` onto the upload's blob, conditional on the etag the state names, and
   * returns the new state: its `digestSoFar` (and `hashState` when resumable) describes exactly
   * the bytes stored, and is noted with them (BlobStore.stat): GET and discard read it there.
   */
  private async appendBody(
    session: UploadSession,
    state: string | undefined,
    rawBody: Body,
    /** `chunk`: more will likely follow (keep a resumable hash); `final`: the bytes are complete. */
    kind: "chunk" | "stream" | "final",
  ): Promise<UploadSession> {
    // known-empty before any hashing: continuing a hash may mean re-reading stored bytes
    const body = await nonEmptyBody(rawBody);
    if (!body) return session;
    const hasher = await continueHash(this.blobs, session, kind === "chunk");
    const blobName = uploadBlobName(session.id);
    const first = session.blobEtag === null;
    // an upload's first bytes (a PATCH: a PUT bringing them completes whole) are recorded first
    const inserted = first && (await this.admission.admit(session));
    const written = await writeBlocks(this.blobs, blobName, body, hasher, { ...this.options, whole: first });
    const hashState = hasher.save();
    const digestSoFar = hasher.digest();
    const note: BlobNote = { digest: digestSoFar };
    if (hashState !== undefined) note.hashState = hashState;
    if (kind === "final") note.frozen = true;
    let blobEtag: string;
    try {
      blobEtag = written.whole
        ? await this.blobs.create(blobName, written.whole, note)
        : await this.blobs.commitBlocks(
            blobName,
            [...(await this.storedBlocks(session, state)), ...written.blockIds],
            session.blobEtag,
            note,
          );
    } catch (error) {
      if (!(error instanceof ConcurrentUpdateError)) throw error;
      // another request wrote first (this chunk no longer starts at the offset), or it is over
      if (first && !(await this.admission.stillOpen(session, inserted))) throw unknownUpload(session.id);
      throw await this.conflict(session, state);
    }
    const next: UploadSession = { ...session, offset: session.offset + written.bytes, blobEtag, digestSoFar };
    delete next.hashState;
    if (hashState !== undefined) next.hashState = hashState;
    return next;
  }

  /**
   * The committed blocks holding the upload's bytes so far. A first chunk small enough was
   * written with one Put Blob, which leaves no block list: its bytes (at most one block) are
   * staged again as the first block, once, when a client sends more.
   */
  private async storedBlocks(session: UploadSession, state: string | undefined): Promise<string[]> {
    if (session.blobEtag === null || session.offset === 0) return [];
    const blobName = uploadBlobName(session.id);
    const committed = await this.blobs.committedBlocks(blobName);
    if (committed.length > 0) return committed;
    const bytes = await this.blobs.readAll(blobName).catch(async (error: unknown) => {
      // gone: cancelled (or expired) under a URL that outlived it
      if (!(await this.metadata.getUpload(session.repository, session.id))) throw unknownUpload(session.id);
      throw error;
    });
    // changed since the state (written on, or cancelled: the commit's etag condition would refuse
    // it anyway); the bound is any instance's block size, not this one's: it may differ during a rollout
    if (bytes.byteLength !== session.offset || bytes.byteLength > MAX_BLOCK_BYTES)
      throw await this.conflict(session, state);
    const id = blockId(newNonce(), 0);
    await this.blobs.stageBlock(blobName, id, bytes);
    return [id];
  }

  /**
   * A completion without a body: the bytes are those the state describes, as long as the blob
   * still has the state's etag. Re-recording the digest changes that etag, so no other holder
   * of this or an earlier state can change the bytes once they are published.
   */
  private async freeze(session: UploadSession, state: string | undefined): Promise<UploadSession> {
    const blobName = uploadBlobName(session.id);
    const digestSoFar = session.blobEtag === null ? fastHasher().digest() : (await finishHash(session)).digestSoFar;
    if (!digestSoFar) throw outOfOrder(session, state); // every state we seal has one
    try {
      const note: BlobNote = { digest: digestSoFar, frozen: true };
      const blobEtag =
        session.blobEtag === null
          ? await this.blobs.create(blobName, new Uint8Array(0), note)
          : await this.blobs.annotate(blobName, note, session.blobEtag);
      return { ...session, blobEtag, digestSoFar };
    } catch (error) {
      if (!(error instanceof ConcurrentUpdateError)) throw error;
      // a retried completion: an earlier attempt froze exactly these bytes
      const stored = await this.blobs.stat(blobName);
      const note = stored?.note;
      if (note?.frozen && !note.cancelled && note.digest === digestSoFar && stored?.size === session.offset)
        return { ...session, blobEtag: stored.etag, digestSoFar };
      throw await this.conflict(session, state);
    }
  }

  /**
   * The whole blob in one request, verified before anything is written whole or committed
   * (not yet indexed). Throws ConcurrentUpdateError if the blob exists already.
   */
  private async writeWhole(id: string, body: Body, digest: string): Promise<Frozen> {
    const hasher = fastHasher(parseDigest(digest).algorithm);
    const blobName = uploadBlobName(id);
    const written = await writeBlocks(this.blobs, blobName, body, hasher, { ...this.options, whole: true });
    const actual = hasher.digest();
    if (actual !== digest) {
      if (written.blockIds.length > 0) await this.blobs.discardStaged(blobName).catch(() => undefined);
      throw digestMismatch(digest, actual);
    }
    const note: BlobNote = { digest, frozen: true };
    const etag = written.whole
      ? await this.blobs.create(blobName, written.whole, note)
      : await this.blobs.commitBlocks(blobName, written.blockIds, null, note);
    return { record: { digest, blobName, size: written.bytes }, etag };
  }

  /**
   * After indexing and linking `frozen`: when the registry already had the blob (`standing`),
   * it is claimed from garbage collection first, and only then this copy dropped, while it
   * still has the etag it was frozen under (a cancel marked it, or it went and the upload's
   * first URL wrote anew: those bytes may be another completion's). If a sweep is deleting
   * the standing blob, the request fails and this copy is left to the orphaned-bytes pass.
   */
  private async adopt(repository: string, frozen: Frozen, standing: BlobRecord): Promise<void> {
    if (standing.blobName === frozen.record.blobName) return;
    if (!(await this.claimLinked(repository, standing))) throw collected();
    await this.blobs.delete(frozen.record.blobName, frozen.etag);
  }

  /**
   * A blob the registry already had, just linked into a repository (a mount, or an upload of
   * a digest it already stored): P2 of the sweep protocol (blob-sweeper.ts), which also
   * records the time as its last reference (the grace period runs from it). If a sweep is
   * deleting it, the link is taken back and false returned.
   */
  private async claimLinked(repository: string, record: BlobRecord): Promise<boolean> {
    if (!this.collection) return true;
    if (await this.collection.claimBlob(record.digest, new Date(this.options.now()).toISOString())) return true;
    await this.metadata.unlinkBlob(repository, record.digest);
    return false;
  }
}
