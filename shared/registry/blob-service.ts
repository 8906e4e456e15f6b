import type { BlobStore } from "../storage/ports/blob-store.js";
import type { BlobRecord, MetadataStore } from "../storage/ports/metadata-store.js";
import type { ByteRange } from "./body.js";
import { RegistryError } from "./errors.js";

export type BlobContent =
  | { kind: "redirect"; record: BlobRecord; url: string }
  | { kind: "stream"; record: BlobRecord; range?: ByteRange; body: ReadableStream<Uint8Array> };

export interface BlobServiceOptions {
  /** Send clients to a short-lived signed URL instead of streaming through this process. */
  redirect: boolean;
  redirectTtlSeconds: number;
}

/** Committed blobs as a repository sees them. */
export interface Blobs {
  stat(repository: string, digest: string): Promise<BlobRecord>;
  delete(repository: string, digest: string): Promise<void>;
  open(
    repository: string,
    digest: string,
    resolveRange?: (size: number) => ByteRange | undefined,
  ): Promise<BlobContent>;
}

/** Reading committed blobs. A blob is visible only in repositories that link it. */
export class BlobService implements Blobs {
  constructor(
    private readonly blobs: BlobStore,
    private readonly metadata: MetadataStore,
    private readonly options: BlobServiceOptions,
  ) {}

  async stat(repository: string, digest: string): Promise<BlobRecord> {
    const record = await this.metadata.getLinkedBlob(repository, digest);
    if (!record) throw new RegistryError("BLOB_UNKNOWN", "blob unknown to registry", { digest });
    return record;
  }

  /** Removes the blob from the repository; its bytes are left for garbage collection. */
  async delete(repository: string, digest: string): Promise<void> {
    if (!(await this.metadata.unlinkBlob(repository, digest))) {
      throw new RegistryError("BLOB_UNKNOWN", "blob unknown to registry", { digest });
    }
  }

  /**
   * Opens a blob for download. `range` is resolved against the size by the caller's
   * `resolveRange` so an unsatisfiable range is reported before any bytes are read.
   */
  async open(
    repository: string,
    digest: string,
    resolveRange?: (size: number) => ByteRange | undefined,
  ): Promise<BlobContent> {
    const record = await this.stat(repository, digest);
    const range = resolveRange?.(record.size);
    if (this.options.redirect && !range) {
      const url = await this.blobs.signedReadUrl(record.blobName, this.options.redirectTtlSeconds);
      if (url) return { kind: "redirect", record, url };
    }
    if (record.size === 0) return { kind: "stream", record, body: new ReadableStream({ start: (c) => c.close() }) };
    const body = range
      ? await this.blobs.read(record.blobName, range.start, range.end - range.start + 1)
      : await this.blobs.read(record.blobName);
    return range ? { kind: "stream", record, range, body } : { kind: "stream", record, body };
  }
}
