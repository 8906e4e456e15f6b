import type { BlobStore } from "../storage/ports/blob-store.js";
import type { CollectionStore, SweepEpoch } from "../storage/ports/collection-store.js";
import type { ManifestRecord, MetadataStore } from "../storage/ports/metadata-store.js";
import { mapLimit } from "../lib/map-limit.js";
import { manifestBlobName } from "./blob-names.js";
import { CatalogMemo } from "./catalog-memo.js";
import { ManifestCache } from "./manifest-cache.js";
import { RegistryError, tooLarge } from "./errors.js";
import { digestOf } from "./hasher.js";
import { parseManifest, type Descriptor } from "./manifest-parser.js";
import { isDigest, parseDigest } from "./references.js";

/** Manifests up to this size are kept inline in their metadata row (one read serves a GET). */
const INLINE_LIMIT = 60_000;

export interface StoredManifest {
  digest: string;
  mediaType: string;
  content: Uint8Array;
}

export interface PutManifestResult {
  digest: string;
  mediaType: string;
  size: number;
  subject?: string;
}

/** What a manifest HEAD tells: enough to answer without the bytes. */
export interface ManifestStat {
  digest: string;
  mediaType: string;
  size: number;
}

/**
 * Told of a PUT's commit (the event decorator queues its event here). `committed` runs alongside
 * the calls that follow the commit, and the PUT awaits it: its failure fails the PUT.
 */
export interface PutObserver {
  /** The manifest and its tag are stored. */
  committed(result: PutManifestResult): Promise<void>;
  /** A committed manifest was removed again, before the PUT answered (see claimBlobs). */
  withdrawn(digest: string): Promise<void>;
}

/** Manifests as the HTTP layer (and the event decorator) see them. */
export interface Manifests {
  readonly maxBytes: number;
  put(
    repository: string,
    reference: string,
    bytes: Uint8Array,
    contentType: string | undefined,
    observer?: PutObserver,
  ): Promise<PutManifestResult>;
  delete(repository: string, reference: string): Promise<void>;
  get(repository: string, reference: string): Promise<StoredManifest>;
  stat(repository: string, reference: string): Promise<ManifestStat>;
}

export interface ManifestServiceOptions {
  maxManifestBytes: number;
  /** Distinct blobs and child manifests one manifest may reference. */
  maxManifestReferences: number;
  now: () => number;
}

/** Existence checks of one manifest's references in flight at once. */
const CHECK_CONCURRENCY = 16;

export class ManifestService implements Manifests {
  /** Content by digest, for a bounded time (see manifest-cache.ts for what that bounds). */
  private readonly cache: ManifestCache;
  /** Repositories whose catalog row this instance wrote moments ago (a re-tag skips it). */
  private readonly catalogued: CatalogMemo;
  /** The sweep epoch as a push last read it (see sweepEpochBefore). */
  private lastEpoch: SweepEpoch | undefined;

  constructor(
    private readonly blobs: BlobStore,
    private readonly metadata: MetadataStore,
    private readonly options: ManifestServiceOptions,
    /** Garbage collection's claim on referenced blobs (see blob-sweeper.ts); absent: no sweeps. */
    private readonly collection?: CollectionStore,
  ) {
    this.cache = new ManifestCache(options.now);
    this.catalogued = new CatalogMemo(options.now);
  }

  get maxBytes(): number {
    return this.options.maxManifestBytes;
  }

  /**
   * PUT: validate, check that everything it references is in the repository, store it by
   * digest and point the tag at it (manifest and tag commit together). Storage calls, when no
   * sweep is marking: [sweep epoch, unless an earlier push read it], the manifest-and-tag batch
   * if the manifest is stored already (else: [one link or manifest read per reference], the
   * batch again), then the epoch again alongside the catalog row (which a re-tag skips if
   * this instance wrote it moments ago: catalog-memo.ts) and the observer's `committed` (the
   * push event). A re-tag: 2 calls in 2 round trips while this instance wrote the catalog row
   * in the last 10 s and nothing left the catalog since, else 3, and the event's when one is
   * wanted. (A large manifest: a manifest read instead of the first batch, and its bytes
   * before the batch.)
   */
  async put(
    repository: string,
    reference: string,
    bytes: Uint8Array,
    contentType: string | undefined,
    observer?: PutObserver,
  ): Promise<PutManifestResult> {
    if (bytes.byteLength > this.maxBytes) throw tooLarge(this.maxBytes);
    const parsed = parseManifest(bytes, contentType);
    let digest = digestOf(bytes);
    if (isDigest(reference)) {
      const { algorithm } = parseDigest(reference);
      if (algorithm !== "sha256") digest = digestOf(bytes, algorithm);
      if (digest !== reference)
        throw new RegistryError("DIGEST_INVALID", "manifest digest does not match content", { reference, digest });
    }
    // Read before anything this push relies on is read (P0 in blob-sweeper.ts), not alongside.
    const before = await this.sweepEpochBefore();
    const record: ManifestRecord = {
      digest,
      mediaType: parsed.mediaType,
      size: bytes.byteLength,
      createdAt: new Date(this.options.now()).toISOString(),
    };
    if (parsed.subject) record.subject = parsed.subject.digest;
    if (parsed.artifactType) record.artifactType = parsed.artifactType;
    if (parsed.annotations) record.annotations = parsed.annotations;
    const tag = isDigest(reference) ? undefined : reference;
    let retagged = false;
    if (bytes.byteLength <= INLINE_LIMIT) {
      record.content = bytes;
      // A manifest already stored here had its references checked when it was stored: tagging
      // it again (a CI pushing tags) is the one batch, committed only if the manifest is still
      // there when it commits (after P0, as a read would be); a new one is checked first.
      retagged = await this.metadata.putManifestIfStored(repository, record, tag);
      if (!retagged) {
        await this.checkReferences(repository, parsed.blobs, parsed.manifests);
        await this.metadata.putManifest(repository, record, tag);
      }
    } else {
      if (!(await this.metadata.getManifest(repository, digest))) {
        await this.checkReferences(repository, parsed.blobs, parsed.manifests);
      }
      record.blobName = manifestBlobName(digest);
      await this.blobs.put(record.blobName, bytes);
      await this.metadata.putManifest(repository, record, tag);
    }
    const result: PutManifestResult = { digest, mediaType: parsed.mediaType, size: bytes.byteLength };
    if (parsed.subject) result.subject = parsed.subject.digest;
    // Both after the manifest is written: the sweep relies on that order (blob-sweeper.ts), and
    // so does its removal of empty repositories from the catalog (lifecycle-service.ts). The
    // observer needs only the commit; a claim that removes the manifest again tells it so.
    // Their failures are raised only after the claims: a manifest stored while a sweep marked
    // is never left unclaimed (a retry would re-tag it without claiming anything).
    const told = failureOf(observer?.committed(result));
    // a re-tag may skip the catalog row this instance wrote moments ago (catalog-memo.ts)
    const skipping = retagged && before !== undefined && this.catalogued.stands(repository, before.removals);
    const listed = failureOf(skipping ? undefined : this.addToCatalog(repository, before));
    const [after] = await Promise.all([this.readSweepEpoch(), listed, told]);
    if (!sweepFree(before, after)) await this.claimBlobs(repository, digest, parsed.blobs, observer);
    const failed = (await listed) ?? (await told);
    if (failed) throw failed.error;
    // a removal from the catalog since that write: the row is written after all
    if (skipping && !this.catalogued.stands(repository, after?.removals ?? ""))
      await this.addToCatalog(repository, after);
    // no value yet (a new deployment), or one an older version's sweep reset: set one
    if (after?.removals === "") await this.collection?.changeRemovals();
    return result;
  }

  /** Upserts the repository's catalog row; `epoch` as read before the upsert (catalog-memo.ts). */
  private async addToCatalog(repository: string, epoch: SweepEpoch | undefined): Promise<void> {
    await this.metadata.addRepository(repository);
    if (epoch) this.catalogued.wrote(repository, epoch.removals);
  }

  /**
   * P0: any epoch read that completed before this push relies on anything will do, the latest
   * a push made (most often the last PUT's P2'), so a PUT reads the epoch once. An earlier P0
   * only widens the window that P2' checks: a sweep that begins after it changes the epoch,
   * and one marking at it shows "marking". One that showed "marking" is read again, so the
   * first push after a sweep ends does not claim its blobs for nothing.
   */
  private async sweepEpochBefore(): Promise<SweepEpoch | undefined> {
    const last = this.lastEpoch;
    return last && !last.marking ? last : this.readSweepEpoch();
  }

  private async readSweepEpoch(): Promise<SweepEpoch | undefined> {
    const epoch = await this.collection?.sweepEpoch();
    this.lastEpoch = epoch;
    return epoch;
  }

  /**
   * DELETE by digest removes the manifest, its tags and its referrers entry; by tag, only the
   * tag. The bytes of a large manifest stay in blob storage for garbage collection (another
   * repository may hold the same content).
   */
  async delete(repository: string, reference: string): Promise<void> {
    if (isDigest(reference)) this.cache.forget(repository, reference);
    const deleted = isDigest(reference)
      ? await this.metadata.deleteManifest(repository, reference)
      : await this.metadata.deleteTag(repository, reference);
    if (isDigest(reference)) this.cache.forget(repository, reference); // a read racing the delete
    if (!deleted) throw unknown(reference);
  }

  /**
   * Stops serving a manifest this instance may have cached, or all of a repository's: garbage
   * collection and retention delete in storage directly, and this instance must not lag them.
   */
  forget(repository: string, digest?: string): void {
    if (digest) this.cache.forget(repository, digest);
    else {
      this.cache.forgetRepository(repository);
      this.catalogued.forget(repository);
    }
  }

  /** The manifest a tag or digest names in a repository. */
  async get(repository: string, reference: string): Promise<StoredManifest> {
    if (!isDigest(reference)) {
      // small manifests ride along in the tag row: one read
      const tag = await this.metadata.getTag(repository, reference);
      if (!tag) throw unknown(reference);
      if (tag.content) return { digest: tag.digest, mediaType: tag.mediaType, content: tag.content };
      reference = tag.digest;
    }
    const cached = this.cache.get(repository, reference);
    if (cached) return cached;
    const record = await this.find(repository, reference);
    const content = record.content ?? (await this.blobs.readAll(record.blobName as string));
    const manifest = { digest: record.digest, mediaType: record.mediaType, content };
    this.cache.set(repository, manifest);
    return manifest;
  }

  /** HEAD: metadata only. By tag this is a single point read. */
  async stat(repository: string, reference: string): Promise<ManifestStat> {
    if (!isDigest(reference)) {
      const tag = await this.metadata.getTag(repository, reference, { content: false });
      if (!tag) throw unknown(reference);
      return tag;
    }
    const digest = reference;
    const cached = this.cache.get(repository, digest);
    if (cached) return { digest, mediaType: cached.mediaType, size: cached.content.byteLength };
    const record = await this.find(repository, digest);
    if (record.content) this.cache.set(repository, { digest, mediaType: record.mediaType, content: record.content });
    return record;
  }

  private async find(repository: string, digest: string): Promise<ManifestRecord> {
    const record = await this.metadata.getManifest(repository, digest);
    if (!record) throw unknown(digest);
    return record;
  }

  /**
   * Every blob and child manifest must be in the repository. Checked with bounded
   * concurrency, each distinct digest once, and refused outright past the reference limit
   * (a 4 MiB manifest can list 27,000 layers).
   */
  private async checkReferences(repository: string, blobs: Descriptor[], manifests: Descriptor[]): Promise<void> {
    // foreign layers (with urls) live outside the registry by design
    const blobDigests = [...new Set(blobs.filter((d) => !d.urls).map((d) => d.digest))];
    const manifestDigests = [...new Set(manifests.map((d) => d.digest))];
    const count = blobDigests.length + manifestDigests.length;
    if (count > this.options.maxManifestReferences) {
      throw new RegistryError(
        "MANIFEST_INVALID",
        `a manifest may reference at most ${this.options.maxManifestReferences} blobs and manifests`,
        {
          references: count,
          limit: this.options.maxManifestReferences,
        },
      );
    }
    const checks = [
      ...blobDigests.map(
        (digest) => async () => ((await this.metadata.getLinkedBlob(repository, digest)) ? undefined : digest),
      ),
      ...manifestDigests.map(
        (digest) => async () => ((await this.metadata.getManifest(repository, digest)) ? undefined : digest),
      ),
    ];
    const missing = (await mapLimit(checks, CHECK_CONCURRENCY, (check) => check())).find((d) => d !== undefined);
    if (missing)
      throw new RegistryError("MANIFEST_BLOB_UNKNOWN", "manifest references content unknown to the repository", {
        digest: missing,
      });
  }

  /**
   * P2 of the sweep protocol (blob-sweeper.ts), when a sweep may have marked in between: with
   * the manifest written, take back any blob a running sweep has marked. One already being
   * deleted makes the push fail as if the blob were unknown, after removing the manifest
   * again: the client uploads it and retries.
   */
  private async claimBlobs(
    repository: string,
    digest: string,
    blobs: Descriptor[],
    observer: PutObserver | undefined,
  ): Promise<void> {
    if (!this.collection) return;
    const collection = this.collection;
    const digests = [...new Set(blobs.filter((d) => !d.urls).map((d) => d.digest))];
    const claimed = await mapLimit(digests, CHECK_CONCURRENCY, (d) => collection.claimBlob(d));
    const lost = digests.find((_, i) => !claimed[i]);
    if (lost === undefined) return;
    await this.metadata.deleteManifest(repository, digest);
    await observer?.withdrawn(digest);
    throw new RegistryError("MANIFEST_BLOB_UNKNOWN", "a referenced blob was garbage-collected; upload it again", {
      digest: lost,
    });
  }
}

/**
 * True when no sweep marked at any time between the two reads (P0 and P2' in blob-sweeper.ts):
 * none was marking at either, and none began in between. Without a collection store there are
 * no sweeps at all.
 */
function sweepFree(before: SweepEpoch | undefined, after: SweepEpoch | undefined): boolean {
  if (!before || !after) return before === after;
  return !before.marking && !after.marking && before.epoch === after.epoch;
}

/** Resolves to the promise's failure, if any, so that it can be raised after other work. */
function failureOf(promise: Promise<unknown> | undefined): Promise<{ error: unknown } | undefined> {
  return Promise.resolve(promise).then(
    () => undefined,
    (error: unknown) => ({ error }),
  );
}

function unknown(reference: string): RegistryError {
  return new RegistryError("MANIFEST_UNKNOWN", "manifest unknown", { reference });
}
