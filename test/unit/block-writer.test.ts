import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { writeBlocks } from "../../shared/registry/block-writer.js";
import { fastHasher } from "../../shared/registry/hasher.js";
import type { BlobStore } from "../../shared/storage/ports/blob-store.js";

/**
 * writeBlocks' buffers start small and grow with the body: whatever the body's size and chunking,
 * the staged blocks (or the whole body kept for one Put Blob) must be its bytes, in full blocks.
 */
const MiB = 1024 * 1024;

/** Only what writeBlocks calls: stageBlock, recording copies of the bytes staged. */
function stagingStore(staged: Map<string, Buffer>): BlobStore {
  return {
    stageBlock: async (_name: string, id: string, data: Uint8Array) => void staged.set(id, Buffer.from(data)),
  } as unknown as BlobStore;
}

async function* chunked(data: Buffer, sizes: number[]): AsyncIterable<Uint8Array> {
  let offset = 0;
  for (let i = 0; offset < data.byteLength; i++) {
    const size = sizes[i % sizes.length] as number;
    yield data.subarray(offset, offset + size);
    offset += size;
  }
}

describe("writeBlocks", () => {
  const options = { blockSize: 8 * MiB, concurrency: 3 };
  for (const size of [0, 1, 64 * 1024, 256 * 1024, 256 * 1024 + 1, 3 * MiB, 8 * MiB, 8 * MiB + 1, 20 * MiB + 3]) {
    it(`stages ${size} bytes in full blocks, whatever the chunking`, async () => {
      const data = randomBytes(size);
      for (const sizes of [[65_536], [1, 100_003, 7], [5 * MiB]]) {
        const staged = new Map<string, Buffer>();
        const hasher = fastHasher();
        const written = await writeBlocks(stagingStore(staged), "blob", chunked(data, sizes), hasher, options);
        const blocks = written.blockIds.map((id) => staged.get(id) as Buffer);
        assert.equal(written.bytes, size);
        assert.deepEqual(Buffer.concat(blocks), data);
        for (const block of blocks.slice(0, -1)) assert.equal(block.byteLength, options.blockSize);
        assert.equal(hasher.digest(), `sha256:${createHash("sha256").update(data).digest("hex")}`);
      }
    });
  }

  it("keeps a body smaller than a block whole, staging nothing, and stages a larger one", async () => {
    for (const size of [100, 256 * 1024 + 5, 5 * MiB, 8 * MiB, 9 * MiB]) {
      const data = randomBytes(size);
      const staged = new Map<string, Buffer>();
      const written = await writeBlocks(stagingStore(staged), "blob", chunked(data, [65_536]), fastHasher(), {
        ...options,
        whole: true,
      });
      if (size < options.blockSize) {
        assert.deepEqual(Buffer.from(written.whole as Uint8Array), data);
        assert.equal(staged.size, 0);
      } else {
        assert.equal(written.whole, undefined);
        assert.deepEqual(Buffer.concat(written.blockIds.map((id) => staged.get(id) as Buffer)), data);
      }
    }
  });
});
