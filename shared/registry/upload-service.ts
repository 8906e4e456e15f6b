import { randomBytes } from "node:crypto";
import type { BlobStore } from "../storage/ports/blob-store.js";
import { ConcurrentUpdateError } from "../storage/ports/errors.js";
import type { BlobRecord, MetadataStore, UploadSession } from "../storage/ports/metadata-store.js";
import { uploadBlobName } from "./blob-names.js";
import { writeBlocks, type BlockWriterOptions } from "./block-writer.js";
import type { Body, ChunkRange } from "./body.js";
import { declaredChunk } from "./chunk-length.js";
import { outOfOrder, RegistryError } from "./errors.js";
import { digestStream, fastHasher, resumableHasher, type Hasher } from "./hasher.js";
import { nonEmptyBody } from "./non-empty-body.js";
import { parseDigest } from "./references.js";

export interface UploadOptions extends BlockWriterOptions {
  /** Mount a blob already in the registry when a client names it without `from`. */
  autoMount: boolean;
  /** An upload not finished this long after it started is gone (BLOB_UPLOAD_UNKNOWN). */
  uploadTtlMs: number;
  /** Unfinished uploads one repository may have open; past it POST is TOOMANYREQUESTS. */
  maxUploadsPerRepository: number;
  /** The clock (milliseconds since the epoch); tests move it instead of sleeping. */
  now: () => number;
}

export type StartResult = { kind: "session"; id: string } | { kind: "blob"; record: BlobRecord; mounted: boolean };

/** Blob uploads, as the HTTP layer (and the event decorator) see them. */
export interface Uploads {
  start(repository: string, body: Body, options: StartOptions): Promise<StartResult>;
  status(repository: string, id: string): Promise<number>;
  append(repository: string, id: string, body: Body, range?: ChunkRange): Promise<number>;
  complete(repository: string, id: string, digest: string, body: Body): Promise<BlobRecord>;
  cancel(repository: string, id: string): Promise<void>;
}

/** `digest`: the whole blob is in this request; `mount`: link an existing blob instead. */
export interface StartOptions {
  digest?: string;
  mount?: { digest: string; from?: string };
}

/**
 * Blob uploads: every pattern the clients use (monolithic POST, POST then PUT with the body,
 * one streamed PATCH, chunked PATCHes), continued on any instance from the session row.
 */
export class UploadService implements Uploads {
  constructor(
    private readonly blobs: BlobStore,
    private readonly metadata: MetadataStore,
    private readonly options: UploadOptions,
  ) {}

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
        return { kind: "blob", record: source, mounted: true };
      }
      // not mountable (unknown, or not in that repository): fall back to a normal upload
    }
    const id = randomBytes(16).toString("hex");
    if (options.digest !== undefined) {
      const record = await this.writeWhole(id, body, options.digest);
      await this.metadata.linkBlob(repository, record);
      return { kind: "blob", record, mounted: false };
    }
    await this.openSession(repository, id);
    return { kind: "session", id };
  }

  /**
   * Creates the session row while counting the repository's other live ones, in parallel so
   * the limit costs no extra round trip; concurrent POSTs may overshoot it by how many are in flight.
   */
  private async openSession(repository: string, id: string): Promise<void> {
    const now = this.options.now();
    const limit = this.options.maxUploadsPerRepository;
    const since = new Date(now - this.options.uploadTtlMs).toISOString();
    const [, open] = await Promise.all([
      this.metadata.createUpload({ repository, id, offset: 0, blobEtag: null, startedAt: new Date(now).toISOString() }),
      this.metadata.countUploads(repository, id, since, limit),
    ]);
    if (open < limit) return;
    await this.metadata.deleteUpload(repository, id);
    throw new RegistryError("TOOMANYREQUESTS", "too many unfinished uploads in this repository", {
      limit,
      retryAfterSeconds: 60,
    });
  }

  /** GET on an upload: how many bytes it holds. */
  async status(repository: string, id: string): Promise<number> {
    return (await this.load(repository, id)).session.offset;
  }

  /** PATCH: append a chunk (or the whole stream). Returns the new offset. */
  async append(repository: string, id: string, body: Body, range?: ChunkRange): Promise<number> {
    const { session, etag } = await this.load(repository, id);
    if (range && range.start !== session.offset) throw outOfOrder(repository, id, session.offset);
    // a declared chunk will likely be followed by more: keep a resumable hash
    const next = await this.appendBody(session, etag, range ? declaredChunk(body, range) : body, range !== undefined);
    return next.offset;
  }

  /** PUT ?digest=: append the final chunk if any, verify the digest, and publish the blob. */
  async complete(repository: string, id: string, digest: string, body: Body): Promise<BlobRecord> {
    const { algorithm } = parseDigest(digest);
    const loaded = await this.load(repository, id);
    const session = await this.appendBody(loaded.session, loaded.etag, body, false);
    const blobName = uploadBlobName(id);
    if (session.blobEtag === null) await this.blobs.commitBlocks(blobName, [], null); // empty blob
    const actual =
      algorithm === "sha256" && session.digestSoFar
        ? session.digestSoFar
        : await this.rehash(session, fastHasher(algorithm));
    if (actual !== digest) {
      await this.discard(session);
      throw new RegistryError("DIGEST_INVALID", "provided digest did not match uploaded content", { digest, actual });
    }
    const record = await this.publish({ digest, blobName, size: session.offset });
    try {
      await this.metadata.completeUpload(repository, id, record);
    } catch (error) {
      if (error instanceof ConcurrentUpdateError)
        throw new RegistryError("BLOB_UPLOAD_UNKNOWN", "upload was completed or cancelled concurrently");
      throw error;
    }
    return record;
  }

  /** DELETE on an upload: forget it and its bytes. */
  async cancel(repository: string, id: string): Promise<void> {
    await this.discard((await this.load(repository, id)).session);
  }

  /**
   * Garbage collection of abandoned uploads: every session past the TTL is forgotten with its
   * bytes (`dryRun`: only listed). Safe while the registry runs: a client still using one
   * would be refused anyway, and bytes the blob index serves are kept.
   */
  async purgeExpired(dryRun = false): Promise<UploadSession[]> {
    const expired = await this.metadata.listUploadsStartedBefore(
      new Date(this.options.now() - this.options.uploadTtlMs).toISOString(),
    );
    if (!dryRun) for (const session of expired) await this.discard(session);
    return expired;
  }

  private async load(repository: string, id: string) {
    const found = await this.metadata.getUpload(repository, id);
    if (!found) throw new RegistryError("BLOB_UPLOAD_UNKNOWN", "upload unknown", { id });
    if (this.options.now() - Date.parse(found.session.startedAt) > this.options.uploadTtlMs) {
      // abandoned: forget it now rather than let a client resume into a half-collected upload
      await this.discard(found.session);
      throw new RegistryError("BLOB_UPLOAD_UNKNOWN", "upload expired", { id });
    }
    return found;
  }

  /**
   * Streams `body` onto the upload's blob and records the new offset. The session's
   * `digestSoFar` (fast hash, finished) or `hashState` (resumable) always describes exactly
   * the bytes committed so far.
   */
  private async appendBody(
    session: UploadSession,
    etag: string,
    rawBody: Body,
    resumable: boolean,
  ): Promise<UploadSession> {
    // known-empty before any hashing: continuing a hash may mean re-reading stored bytes
    const body = await nonEmptyBody(rawBody);
    if (!body) return this.finishHash(session);
    const hasher = await this.continueHash(session, resumable);
    const blobName = uploadBlobName(session.id);
    const { blockIds, bytes } = await writeBlocks(this.blobs, blobName, body, hasher, this.options);
    const previous = session.offset > 0 ? await this.blobs.committedBlocks(blobName) : [];
    let blobEtag: string;
    try {
      blobEtag = await this.blobs.commitBlocks(blobName, [...previous, ...blockIds], session.blobEtag);
    } catch (error) {
      // another request appended first: this chunk no longer starts at the offset
      if (error instanceof ConcurrentUpdateError) throw outOfOrder(session.repository, session.id, session.offset);
      throw error;
    }
    const next: UploadSession = { ...session, offset: session.offset + bytes, blobEtag };
    delete next.hashState;
    delete next.digestSoFar;
    const state = hasher.save();
    if (state !== undefined) next.hashState = state;
    else next.digestSoFar = hasher.digest();
    try {
      await this.metadata.updateUpload(next, etag);
    } catch (error) {
      if (error instanceof ConcurrentUpdateError) throw outOfOrder(session.repository, session.id, session.offset);
      throw error;
    }
    return this.finishHash(next);
  }

  private async continueHash(session: UploadSession, resumable: boolean): Promise<Hasher> {
    if (session.offset === 0) return resumable ? resumableHasher() : fastHasher();
    if (session.hashState) return resumableHasher(session.hashState);
    // The earlier bytes were hashed fast (one streamed PATCH) and a client sent more after all:
    // rebuild a resumable state from the stored bytes, once. Rare, and correct.
    const hasher = await resumableHasher();
    for await (const chunk of await this.blobs.read(uploadBlobName(session.id), 0, session.offset))
      hasher.update(chunk);
    return hasher;
  }

  /** Makes `digestSoFar` available when the saved state allows it cheaply. */
  private async finishHash(session: UploadSession): Promise<UploadSession> {
    if (session.digestSoFar || !session.hashState) return session;
    const hasher = await resumableHasher(session.hashState);
    return { ...session, digestSoFar: hasher.digest() };
  }

  /** Digest of the stored bytes with another algorithm, or of an empty upload. */
  private async rehash(session: UploadSession, hasher: Hasher): Promise<string> {
    if (session.offset === 0) return hasher.digest();
    return digestStream(await this.blobs.read(uploadBlobName(session.id)), hasher);
  }

  /** Monolithic upload: the whole blob in one request, verified before anything is indexed. */
  private async writeWhole(id: string, body: Body, digest: string): Promise<BlobRecord> {
    const hasher = fastHasher(parseDigest(digest).algorithm);
    const blobName = uploadBlobName(id);
    try {
      const { blockIds, bytes } = await writeBlocks(this.blobs, blobName, body ?? emptyBody(), hasher, this.options);
      const actual = hasher.digest();
      if (actual !== digest) {
        throw new RegistryError("DIGEST_INVALID", "provided digest did not match uploaded content", { digest, actual });
      }
      await this.blobs.commitBlocks(blobName, blockIds, null);
      return await this.publish({ digest, blobName, size: bytes });
    } catch (error) {
      // no session records these bytes, so no purge could ever find them: drop them now
      await this.dropUnlessIndexed(blobName, digest).catch(() => undefined);
      throw error;
    }
  }

  /** Indexes a verified blob. If the registry already had it, keep the existing copy. */
  private async publish(record: BlobRecord): Promise<BlobRecord> {
    const standing = await this.metadata.insertBlob(record);
    if (standing.blobName !== record.blobName) await this.blobs.delete(record.blobName);
    return standing;
  }

  /** Forgets a session and its bytes, unless the blob index already serves those bytes. */
  private async discard(session: UploadSession): Promise<void> {
    await this.metadata.deleteUpload(session.repository, session.id);
    const blobName = uploadBlobName(session.id);
    // A completion that indexed this blob, then failed before removing its session (a crash,
    // a storage error), left the index pointing here: those bytes are no longer the session's.
    await this.dropUnlessIndexed(blobName, (await this.finishHash(session)).digestSoFar);
  }

  /** Deletes an upload's bytes unless the blob index serves them as `digest`. */
  private async dropUnlessIndexed(blobName: string, digest: string | undefined): Promise<void> {
    if (digest && (await this.metadata.getBlob(digest))?.blobName === blobName) return;
    await this.blobs.delete(blobName);
  }
}

async function* emptyBody(): AsyncIterable<Uint8Array> {}
