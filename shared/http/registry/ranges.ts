import type { ByteRange, ChunkRange } from "../../registry/body.js";
import { RegistryError } from "../../registry/errors.js";

/**
 * `Range: bytes=a-b` (or `a-`, or `-suffix`) on a blob GET, resolved against the blob size.
 * Only a single range is supported; multi-range requests are answered with the whole blob,
 * which RFC 9110 allows. Unsatisfiable ranges are RANGE_INVALID (416).
 */
export function resolveByteRange(header: string | null, size: number): ByteRange | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return undefined;
  const [, first, last] = match as unknown as [string, string, string];
  let start: number;
  let end: number;
  if (first === "") {
    if (last === "") return undefined;
    const suffix = Number(last);
    if (suffix === 0) throw unsatisfiable(size);
    start = Math.max(size - suffix, 0);
    end = size - 1;
  } else {
    start = Number(first);
    end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
    if (last !== "" && Number(last) < start) return undefined;
  }
  if (start >= size) throw unsatisfiable(size);
  if (start === 0 && end === size - 1) return undefined; // the whole blob: a plain 200
  return { start, end };
}

function unsatisfiable(size: number): RegistryError {
  return new RegistryError("RANGE_NOT_SATISFIABLE", "requested range not satisfiable", { size });
}

/**
 * `Content-Range: a-b` on a PATCH chunk (the spec's form has no unit; `bytes a-b/*` is also
 * seen in the wild and accepted). Returns undefined when absent.
 */
export function parseChunkRange(header: string | null): ChunkRange | undefined {
  if (!header) return undefined;
  const match = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(header.trim());
  if (!match) throw new RegistryError("BLOB_UPLOAD_INVALID", "invalid Content-Range", { header });
  const start = Number(match[1]);
  const end = Number(match[2]);
  if (end < start) throw new RegistryError("BLOB_UPLOAD_INVALID", "invalid Content-Range", { header });
  return { start, end };
}
