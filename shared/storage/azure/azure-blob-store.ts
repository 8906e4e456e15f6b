import type { Readable } from "node:stream";
import { BlobSASPermissions, RestError, StorageSharedKeyCredential, type ContainerClient } from "@azure/storage-blob";
import { webStreamOf } from "../../lib/node-web-streams.js";
import type { BlobStore } from "../ports/blob-store.js";
import { ConcurrentUpdateError } from "../ports/errors.js";

/** BlobStore over one Azure Blob Storage container (block blobs). */
export class AzureBlobStore implements BlobStore {
  constructor(private readonly container: ContainerClient) {}

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

  async commitBlocks(blobName: string, blockIds: string[], ifMatch: string | null): Promise<string> {
    const conditions = ifMatch === null ? { ifNoneMatch: "*" } : { ifMatch };
    try {
      const result = await this.container.getBlockBlobClient(blobName).commitBlockList(blockIds, { conditions });
      return result.etag as string;
    } catch (error) {
      if (isStatus(error, 412) || isStatus(error, 409)) throw new ConcurrentUpdateError(blobName);
      throw error;
    }
  }

  async create(blobName: string, data: Uint8Array): Promise<string> {
    try {
      const result = await this.container
        .getBlockBlobClient(blobName)
        .upload(data, data.byteLength, { conditions: { ifNoneMatch: "*" } });
      return result.etag as string;
    } catch (error) {
      if (isStatus(error, 412) || isStatus(error, 409)) throw new ConcurrentUpdateError(blobName);
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
    await this.container.getBlobClient(blobName).deleteIfExists();
  }

  async signedReadUrl(blobName: string, ttlSeconds: number): Promise<string | undefined> {
    const blob = this.container.getBlobClient(blobName);
    if (!(blob.credential instanceof StorageSharedKeyCredential)) return undefined;
    const now = Date.now();
    return blob.generateSasUrl({
      permissions: BlobSASPermissions.parse("r"),
      // a little slack for clock skew between us, the client and storage
      startsOn: new Date(now - 60_000),
      expiresOn: new Date(now + ttlSeconds * 1000),
    });
  }
}

export function isStatus(error: unknown, status: number): boolean {
  return error instanceof RestError && error.statusCode === status;
}
