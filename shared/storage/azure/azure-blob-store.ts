import type { Readable } from "node:stream";
import type { PipelineResponse } from "@azure/core-rest-pipeline";
import type { BlockBlobClient } from "@azure/storage-blob";
import { webStreamOf } from "../../lib/node-web-streams.js";
import type { BlobNote, BlobStat, BlobStore } from "../ports/blob-store.js";
import { ConcurrentUpdateError } from "../ports/errors.js";
import type { BlobAccount } from "./blob-account.js";
import { metadataHeaders, sendBlobRequest } from "./blob-requests.js";
import { isStatus } from "./storage-errors.js";

/** The account's blobs, connected on first use (see blob-account.ts). */
export type BlobAccountSource = () => Promise<BlobAccount>;

/** BlobStore over one Azure Blob Storage container (block blobs). */
export class AzureBlobStore implements BlobStore {
  constructor(private readonly account: BlobAccountSource) {}

  async stageBlock(blobName: string, blockId: string, data: Uint8Array): Promise<void> {
    await (await this.blob(blobName)).stageBlock(blockId, data, data.byteLength);
  }

  async committedBlocks(blobName: string): Promise<string[]> {
    try {
      const list = await (await this.blob(blobName)).getBlockList("committed");
      return (list.committedBlocks ?? []).map((b) => b.name);
    } catch (error) {
      if (isStatus(error, 404)) return [];
      throw error;
    }
  }

  async commitBlocks(blobName: string, blockIds: string[], ifMatch: string | null, note?: BlobNote): Promise<string> {
    const conditions = ifMatch === null ? { ifNoneMatch: "*" } : { ifMatch };
    try {
      const blob = await this.blob(blobName);
      const result = await blob.commitBlockList(blockIds, { conditions, metadata: toMetadata(note) });
      return result.etag as string;
    } catch (error) {
      // Azure may answer a write conditional on an etag with 404 once the blob is gone (Azurite: 412)
      if (isStatus(error, 412) || isStatus(error, 409) || (ifMatch !== null && isStatus(error, 404)))
        throw new ConcurrentUpdateError(blobName);
      throw error;
    }
  }

  async create(blobName: string, data: Uint8Array, note?: BlobNote): Promise<string> {
    try {
      // Put Blob, as BlockBlobClient.upload sends it with these conditions (see blob-requests.ts)
      const { container } = await this.account();
      const headers = {
        "Content-Type": "application/octet-stream",
        "x-ms-blob-type": "BlockBlob",
        "If-None-Match": "*",
        ...metadataHeaders(toMetadata(note)),
      };
      return etagOf(await sendBlobRequest(container, blobName, { headers, body: data }, 201));
    } catch (error) {
      if (isStatus(error, 412) || isStatus(error, 409)) throw new ConcurrentUpdateError(blobName);
      throw error;
    }
  }

  async annotate(blobName: string, note: BlobNote, ifMatch: string): Promise<string> {
    try {
      // Set Blob Metadata, as BlobClient.setMetadata sends it with this condition
      const { container } = await this.account();
      const headers = { "If-Match": ifMatch, ...metadataHeaders(toMetadata(note)) };
      return etagOf(await sendBlobRequest(container, blobName, { query: "comp=metadata", headers }, 200));
    } catch (error) {
      if (isStatus(error, 412) || isStatus(error, 404)) throw new ConcurrentUpdateError(blobName);
      throw error;
    }
  }

  async stat(blobName: string): Promise<BlobStat | undefined> {
    try {
      const properties = await (await this.blob(blobName)).getProperties();
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
    await (await this.blob(blobName)).uploadData(data);
  }

  async read(blobName: string, offset = 0, length?: number): Promise<ReadableStream<Uint8Array>> {
    const response = await (await this.blob(blobName)).download(offset, length);
    // detachable: the Node adapter pipes the SDK's stream straight into the socket
    return webStreamOf(response.readableStreamBody as Readable, { detachable: true });
  }

  async readAll(blobName: string): Promise<Uint8Array> {
    return (await this.blob(blobName)).downloadToBuffer();
  }

  async delete(blobName: string, ifMatch?: string): Promise<void> {
    const blob = await this.blob(blobName);
    try {
      const deleted = await blob.deleteIfExists(ifMatch === undefined ? {} : { conditions: { ifMatch } });
      if (deleted.succeeded || ifMatch !== undefined) return;
    } catch (error) {
      // ContainerNotFound: no container (made by the first write), so no blob and no blocks;
      // 412: changed since `ifMatch`, no longer this caller's to delete
      if (isStatus(error, 404) || isStatus(error, 412)) return;
      throw error;
    }
    // blocks staged but never committed outlive a Delete Blob that finds no blob
    await this.discardStaged(blobName);
  }

  async discardStaged(blobName: string): Promise<void> {
    const blob = await this.blob(blobName);
    // committing an empty list, only where no blob is committed, discards the staged blocks;
    // the empty blob that makes then goes too, unless someone wrote there meanwhile
    let etag: string | undefined;
    try {
      etag = (await blob.commitBlockList([], { conditions: { ifNoneMatch: "*" } })).etag;
    } catch (error) {
      if (isStatus(error, 409) || isStatus(error, 412)) return;
      throw error;
    }
    try {
      await blob.deleteIfExists({ conditions: { ifMatch: etag } });
    } catch (error) {
      if (!isStatus(error, 412)) throw error;
    }
  }

  async signedReadUrl(blobName: string, ttlSeconds: number): Promise<string | undefined> {
    return (await this.account()).signedReadUrl(blobName, ttlSeconds);
  }

  private async blob(blobName: string): Promise<BlockBlobClient> {
    return (await this.account()).container.getBlockBlobClient(blobName);
  }
}

function etagOf(response: PipelineResponse): string {
  const etag = response.headers.get("etag");
  if (!etag) throw new Error("blob storage answered without an ETag");
  return etag;
}

/** A note as blob metadata (names must be C# identifiers; the service answers them lower-case). */
function toMetadata(note: BlobNote | undefined): Record<string, string> | undefined {
  if (!note) return undefined;
  const metadata: Record<string, string> = { digest: note.digest };
  if (note.hashState !== undefined) metadata.hashstate = note.hashState;
  if (note.frozen) metadata.frozen = "true";
  if (note.cancelled) metadata.cancelled = "true";
  return metadata;
}

function fromMetadata(metadata: Record<string, string> | undefined): BlobNote | undefined {
  const digest = metadata?.digest;
  if (!digest) return undefined;
  const note: BlobNote = { digest };
  if (metadata.hashstate) note.hashState = metadata.hashstate;
  if (metadata.frozen === "true") note.frozen = true;
  if (metadata.cancelled === "true") note.cancelled = true;
  return note;
}
