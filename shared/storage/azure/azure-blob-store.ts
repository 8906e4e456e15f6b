import type { Readable } from "node:stream";
import { BlobSASPermissions, RestError, StorageSharedKeyCredential, type ContainerClient } from "@azure/storage-blob";
import { webStreamOf } from "../../lib/node-web-streams.js";
import type { BlobNote, BlobStat, BlobStore } from "../ports/blob-store.js";
import { ConcurrentUpdateError } from "../ports/errors.js";

/** BlobStore over one Azure Blob Storage container (block blobs). */
export class AzureBlobStore implements BlobStore {
  /** `apiVersion`: the `sv` of SAS URLs (Azure Stack Hub accepts only older versions); unset: the SDK's. */
  constructor(
    private readonly container: ContainerClient,
    private readonly apiVersion?: string,
  ) {}

  async stageBlock(blobName: string, blockId: string, data: Uint8Array): Promise<void> {
    await this.container.getBlockBlobClient(blobName).stageBlock(blockId, data, data.byteLength);
  }

  async committedBlocks(blobName: string): Promise<string[]> {
    try {
      const list = await this.container.getBlockBlobClient(blobName).getBlockList("committed");
      return (list.committedBlocks ?? []).map((b) => b.name);
    } catch (error) {
      if (isStatus(error, 404)) return [];
      throw error;
    }
  }

  async commitBlocks(blobName: string, blockIds: string[], ifMatch: string | null, note?: BlobNote): Promise<string> {
    const conditions = ifMatch === null ? { ifNoneMatch: "*" } : { ifMatch };
    try {
      const result = await this.container
        .getBlockBlobClient(blobName)
        .commitBlockList(blockIds, { conditions, metadata: toMetadata(note) });
      return result.etag as string;
    } catch (error) {
      if (isStatus(error, 412) || isStatus(error, 409)) throw new ConcurrentUpdateError(blobName);
      throw error;
    }
  }

  async create(blobName: string, data: Uint8Array, note?: BlobNote): Promise<string> {
    try {
      const result = await this.container
        .getBlockBlobClient(blobName)
        .upload(data, data.byteLength, { conditions: { ifNoneMatch: "*" }, metadata: toMetadata(note) });
      return result.etag as string;
    } catch (error) {
      if (isStatus(error, 412) || isStatus(error, 409)) throw new ConcurrentUpdateError(blobName);
      throw error;
    }
  }

  async annotate(blobName: string, note: BlobNote, ifMatch: string): Promise<string> {
    try {
      const result = await this.container
        .getBlobClient(blobName)
        .setMetadata(toMetadata(note), { conditions: { ifMatch } });
      return result.etag as string;
    } catch (error) {
      if (isStatus(error, 412) || isStatus(error, 404)) throw new ConcurrentUpdateError(blobName);
      throw error;
    }
  }

  async stat(blobName: string): Promise<BlobStat | undefined> {
    try {
      const properties = await this.container.getBlobClient(blobName).getProperties();
      const stat: BlobStat = { etag: properties.etag as string, size: properties.contentLength ?? 0 };
      const note = fromMetadata(properties.metadata);
      if (note) stat.note = note;
      return stat;
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  }

  async put(blobName: string, data: Uint8Array): Promise<void> {
    await this.container.getBlockBlobClient(blobName).uploadData(data);
  }

  async read(blobName: string, offset = 0, length?: number): Promise<ReadableStream<Uint8Array>> {
    const response = await this.container.getBlobClient(blobName).download(offset, length);
    // detachable: the Node adapter pipes the SDK's stream straight into the socket
    return webStreamOf(response.readableStreamBody as Readable, { detachable: true });
  }

  async readAll(blobName: string): Promise<Uint8Array> {
    return this.container.getBlobClient(blobName).downloadToBuffer();
  }

  async delete(blobName: string): Promise<void> {
    const blob = this.container.getBlockBlobClient(blobName);
    if ((await blob.deleteIfExists()).succeeded) return;
    // Blocks staged but never committed may outlive a Delete Blob that finds no blob (they are
    // otherwise kept for a week); committing an empty list discards them, then that goes too.
    try {
      await blob.commitBlockList([], { conditions: { ifNoneMatch: "*" } });
    } catch (error) {
      if (!isStatus(error, 409) && !isStatus(error, 412)) throw error;
    }
    await blob.deleteIfExists();
  }

  async signedReadUrl(blobName: string, ttlSeconds: number): Promise<string | undefined> {
    const blob = this.container.getBlobClient(blobName);
    // Only an account key can sign here. With a token credential a user delegation key could,
    // but Azure Stack Hub has no Entra ID storage authorization: blobs stream through instead.
    if (!(blob.credential instanceof StorageSharedKeyCredential)) return undefined;
    const now = Date.now();
    return blob.generateSasUrl({
      permissions: BlobSASPermissions.parse("r"),
      // a little slack for clock skew between us, the client and storage
      startsOn: new Date(now - 60_000),
      expiresOn: new Date(now + ttlSeconds * 1000),
      ...(this.apiVersion ? { version: this.apiVersion } : {}),
    });
  }
}

/** A note as blob metadata (names must be C# identifiers; the service answers them lower-case). */
function toMetadata(note: BlobNote | undefined): Record<string, string> | undefined {
  if (!note) return undefined;
  const metadata: Record<string, string> = { digest: note.digest };
  if (note.hashState !== undefined) metadata.hashstate = note.hashState;
  if (note.frozen) metadata.frozen = "true";
  return metadata;
}

function fromMetadata(metadata: Record<string, string> | undefined): BlobNote | undefined {
  const digest = metadata?.digest;
  if (!digest) return undefined;
  const note: BlobNote = { digest };
  if (metadata.hashstate) note.hashState = metadata.hashstate;
  if (metadata.frozen === "true") note.frozen = true;
  return note;
}

export function isStatus(error: unknown, status: number): boolean {
  return error instanceof RestError && error.statusCode === status;
}
