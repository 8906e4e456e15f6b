import { RegistryError } from "./errors.js";
import type { Body, ChunkRange } from "./body.js";

/**
 * A chunk's bytes, checked against the length its Content-Range declares. A chunk carrying
 * more or fewer bytes fails (SIZE_INVALID, as distribution answers) before its blocks are
 * committed, so the upload keeps its offset instead of disagreeing with what the client sent.
 */
export async function* declaredChunk(body: Body, range: ChunkRange): AsyncIterable<Uint8Array> {
  const expected = range.end - range.start + 1;
  let received = 0;
  for await (const chunk of body ?? []) {
    received += chunk.byteLength;
    if (received > expected) throw mismatch(range, received);
    yield chunk;
  }
  if (received !== expected) throw mismatch(range, received);
}

function mismatch(range: ChunkRange, received: number): RegistryError {
  return new RegistryError("SIZE_INVALID", "chunk length does not match its Content-Range", {
    range: `${range.start}-${range.end}`,
    received,
  });
}
