/** A request body as the registry reads it: bytes as they arrive, or null for none. */
export type Body = AsyncIterable<Uint8Array> | null;

/** The inclusive byte range a chunk claims to carry (from Content-Range). */
export interface ChunkRange {
  start: number;
  end: number;
}

/** An inclusive byte range, already checked against a blob's size. */
export type ByteRange = ChunkRange;
