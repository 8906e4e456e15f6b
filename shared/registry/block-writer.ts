import { randomBytes } from "node:crypto";
import type { BlobStore } from "../storage/ports/blob-store.js";
import type { Body } from "./body.js";
import type { Hasher } from "./hasher.js";

export interface BlockWriterOptions {
  /** Bytes per staged block. Memory use is about blockSize x (concurrency + 1). */
  blockSize: number;
  /** Blocks staged in parallel. */
  concurrency: number;
}

/** What writeBlocks wrote: blocks to commit, or (`whole`) a body it kept for one Put Blob. */
export interface WrittenBlocks {
  blockIds: string[];
  bytes: number;
  /** Set when the body fit in one block and `whole` was asked: its bytes, nothing staged. */
  whole?: Uint8Array;
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
  /** null: no body (an empty blob). */
  body: Body,
  hasher: Hasher,
  options: BlockWriterOptions & {
    /** If the body fits in one block, stage nothing and return it: the caller writes it with one call (BlobStore.create). */
    whole?: boolean;
  },
): Promise<WrittenBlocks> {
  // made by the first block staged: a body written whole (most small blobs) needs none
  let nonce: string | undefined;
  const blockIds: string[] = [];
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  // Buffers whose block has been staged are refilled, not dropped: a multi-GiB layer then
  // cycles through concurrency + 1 buffers instead of leaving garbage for the GC to find.
  const spare: Buffer[] = [];
  // The first block starts small and grows to blockSize only if the body does: most blobs
  // (configs, small layers) are far smaller than a block, and a fresh block-size buffer per upload
  // made the garbage collector most of a small blob's CPU.
  let block: Buffer = Buffer.allocUnsafe(Math.min(options.blockSize, FIRST_BUFFER_BYTES));
  let filled = 0;
  let bytes = 0;

  const stage = async (buffer: Buffer, length: number) => {
    const id = blockId((nonce ??= newNonce()), blockIds.length);
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
    for await (const chunk of body ?? []) {
      hasher.update(chunk);
      bytes += chunk.byteLength;
      let offset = 0;
      while (offset < chunk.byteLength) {
        if (filled === block.byteLength) block = grown(block, options.blockSize);
        const n = Math.min(chunk.byteLength - offset, block.byteLength - filled);
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
    // one request instead of stage + commit, once the caller knows the digest
    if (options.whole && blockIds.length === 0) return { blockIds, bytes, whole: block.subarray(0, filled) };
    if (filled > 0) await stage(block, filled);
  } finally {
    await Promise.all(inFlight);
  }
  if (failure) throw failure;
  return { blockIds, bytes };
}

/**
 * The largest block any configuration stages (STOWAGE_BLOCK_SIZE_MIB's maximum). An upload's
 * first chunk written whole by any instance is at most this, whatever this instance's setting.
 */
export const MAX_BLOCK_BYTES = 100 * 1024 * 1024;

/** The size the first block's buffer starts at. */
const FIRST_BUFFER_BYTES = 256 * 1024;

/** A full buffer's bytes in one four times its size (at most `limit`). */
function grown(full: Buffer, limit: number): Buffer {
  const bigger = Buffer.allocUnsafe(Math.min(limit, full.byteLength * 4));
  full.copy(bigger);
  return bigger;
}

/** Block ids that no other writer's collide with. */
export function newNonce(): string {
  return randomBytes(8).toString("hex");
}

/** Fixed width: Azure requires every block id of a blob to have the same length. */
export function blockId(nonce: string, index: number): string {
  return Buffer.from(`${nonce}${index.toString().padStart(6, "0")}`).toString("base64");
}
