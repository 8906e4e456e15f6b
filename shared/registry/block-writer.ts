import { randomBytes } from "node:crypto";
import type { BlobStore } from "../storage/ports/blob-store.js";
import type { Hasher } from "./hasher.js";

export interface BlockWriterOptions {
  /** Bytes per staged block. Memory use is about blockSize x (concurrency + 1). */
  blockSize: number;
  /** Blocks staged in parallel. */
  concurrency: number;
}

/** What writeBlocks wrote: blocks to commit, or (`etag`) a whole blob already written. */
export interface WrittenBlocks {
  blockIds: string[];
  bytes: number;
  /** Set when the body fit in one block and `whole` was asked: the blob exists, nothing to commit. */
  etag?: string;
}

/**
 * Streams a request body into staged blocks of `blobName`, hashing as the bytes pass.
 * Memory stays bounded whatever the body size: at most `concurrency` blocks are in flight and
 * one is filling. Block ids carry a per-call nonce, so two writers racing on one upload never
 * overwrite each other's blocks (the commit's etag guard then picks one winner).
 */
export async function writeBlocks(
  blobs: BlobStore,
  blobName: string,
  body: AsyncIterable<Uint8Array>,
  hasher: Hasher,
  options: BlockWriterOptions & {
    /** The body is the whole blob: if it fits in one block, write it with one call (BlobStore.create). */
    whole?: boolean;
  },
): Promise<WrittenBlocks> {
  const nonce = randomBytes(8).toString("hex");
  const blockIds: string[] = [];
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  // Buffers whose block has been staged are refilled, not dropped: a multi-GiB layer then
  // cycles through concurrency + 1 buffers instead of leaving garbage for the GC to find.
  const spare: Buffer[] = [];
  let block: Buffer = Buffer.allocUnsafe(options.blockSize);
  let filled = 0;
  let bytes = 0;

  const stage = async (buffer: Buffer, length: number) => {
    // fixed width: Azure requires every block id of a blob to have the same length
    const id = Buffer.from(`${nonce}${blockIds.length.toString().padStart(6, "0")}`).toString("base64");
    blockIds.push(id);
    const settle = () => {
      inFlight.delete(pending);
      spare.push(buffer);
    };
    const pending: Promise<void> = blobs
      .stageBlock(blobName, id, buffer.subarray(0, length))
      .then(settle, (error: unknown) => {
        failure ??= error;
        settle();
      });
    inFlight.add(pending);
    while (inFlight.size >= options.concurrency) await Promise.race(inFlight);
    if (failure) throw failure;
  };

  try {
    for await (const chunk of body) {
      hasher.update(chunk);
      bytes += chunk.byteLength;
      let offset = 0;
      while (offset < chunk.byteLength) {
        const n = Math.min(chunk.byteLength - offset, options.blockSize - filled);
        block.set(chunk.subarray(offset, offset + n), filled);
        filled += n;
        offset += n;
        if (filled === options.blockSize) {
          await stage(block, filled);
          block = spare.pop() ?? Buffer.allocUnsafe(options.blockSize);
          filled = 0;
        }
      }
    }
    if (options.whole && blockIds.length === 0) {
      // one request instead of stage + commit (the bytes were hashed as they came)
      return { blockIds, bytes, etag: await blobs.create(blobName, block.subarray(0, filled)) };
    }
    if (filled > 0) await stage(block, filled);
  } finally {
    await Promise.all(inFlight);
  }
  if (failure) throw failure;
  return { blockIds, bytes };
}
