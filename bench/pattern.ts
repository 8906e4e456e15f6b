import { createHash, randomBytes, type Hash } from "node:crypto";

const SEGMENT = 64 * 1024;
export const MiB = 1024 * 1024;

/**
 * Layer bytes made on the fly: a 64 KiB random seed repeated, each 64 KiB segment stamped with
 * its index, so a 512 MiB layer never sits in the client's memory, no two segments are equal,
 * and the same seed gives the same bytes (and digest) for every target.
 */
export class Pattern {
  readonly seed: Buffer;

  constructor(
    readonly size: number,
    seed?: Buffer,
  ) {
    this.seed = seed ?? randomBytes(SEGMENT);
    if (this.seed.length !== SEGMENT) throw new Error("pattern seed must be 64 KiB");
  }

  /** The bytes in chunks of `chunkSize` (a multiple of 64 KiB), each a fresh buffer. */
  *chunks(chunkSize = MiB): Generator<Buffer> {
    if (chunkSize % SEGMENT !== 0) throw new Error("chunk size must be a multiple of 64 KiB");
    let segment = 0;
    for (let offset = 0; offset < this.size; offset += chunkSize) {
      const length = Math.min(chunkSize, this.size - offset);
      const chunk = Buffer.allocUnsafe(length);
      for (let at = 0; at < length; at += SEGMENT, segment++) {
        const n = Math.min(SEGMENT, length - at);
        this.seed.copy(chunk, at, 0, n);
        if (n >= 8) chunk.writeBigUInt64BE(BigInt(segment), at);
      }
      yield chunk;
    }
  }
}

/** Passes chunks through, hashing them on the way (the client computes the digest as it sends). */
export class HashingTap {
  private readonly hash: Hash = createHash("sha256");
  bytes = 0;
  private result: string | undefined;

  *tap(chunks: Iterable<Buffer>): Generator<Buffer> {
    for (const chunk of chunks) {
      this.hash.update(chunk);
      this.bytes += chunk.length;
      yield chunk;
    }
  }

  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.bytes += chunk.byteLength;
  }

  digest(): string {
    this.result ??= `sha256:${this.hash.digest("hex")}`;
    return this.result;
  }
}

export function sha256(data: Uint8Array | string): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

/** Reads a stream to its end, hashing it; bounded by `maxBytes` (a wrong server cannot make it run forever). */
export async function drainAndHash(
  stream: AsyncIterable<Uint8Array>,
  maxBytes: number,
): Promise<{ digest: string; bytes: number }> {
  const tap = new HashingTap();
  for await (const chunk of stream) {
    tap.update(chunk);
    if (tap.bytes > maxBytes) throw new Error(`response longer than the expected ${maxBytes} bytes`);
  }
  return { digest: tap.digest(), bytes: tap.bytes };
}
