import type { Body } from "../registry/body.js";
import { tooLarge } from "../registry/errors.js";

/** The request body as a byte stream, or null when the request has none. */
export function streamOf(request: Request): Body {
  if (!request.body || request.headers.get("content-length") === "0") return null;
  return request.body as unknown as AsyncIterable<Uint8Array>;
}

/** Reads a small body (a manifest) into memory, refusing more than `limit` bytes as it arrives. */
export async function readLimited(request: Request, limit: number): Promise<Uint8Array> {
  const declared = Number(request.headers.get("content-length") ?? NaN);
  if (declared > limit) throw tooLarge(limit);
  const stream = streamOf(request);
  if (!stream) return new Uint8Array(0);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of stream) {
    total += chunk.byteLength;
    if (total > limit) throw tooLarge(limit);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}
