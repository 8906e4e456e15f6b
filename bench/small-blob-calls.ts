import { randomBytes } from "node:crypto";
import { keepAliveAgent } from "./http.js";
import { sha256 } from "./pattern.js";
import { pushBlob, UPLOAD_MODES, type UploadMode } from "./small-image.js";
import type { StorageCallCounter } from "./storage-call-counter.js";
import type { Target } from "./target.js";

export interface BlobCalls {
  blobs: number;
  /** Storage requests per blob pushed, all kinds together. */
  perBlob: number;
  /** Per blob, by `METHOD service comp`. */
  byKind: Record<string, number>;
}

/**
 * Storage round trips per small blob pushed, in each upload pattern: `blobs` fresh blobs one
 * after another through a server whose storage goes through `counter` (after one unmeasured
 * blob, so the token fetch and first-use work are not counted).
 */
export async function countSmallBlobCalls(
  target: Target,
  repository: string,
  counter: StorageCallCounter,
  options: { blobs: number; size: number },
): Promise<Partial<Record<UploadMode, BlobCalls>>> {
  const agent = keepAliveAgent(1);
  const fresh = () => {
    const data = randomBytes(options.size);
    return { data, digest: sha256(data) };
  };
  const result: Partial<Record<UploadMode, BlobCalls>> = {};
  try {
    for (const mode of UPLOAD_MODES) {
      await pushBlob(target, repository, fresh(), mode, agent);
      counter.take();
      for (let i = 0; i < options.blobs; i++) await pushBlob(target, repository, fresh(), mode, agent);
      const { total, byKind } = counter.take();
      const per = Object.fromEntries(Object.entries(byKind).map(([k, v]) => [k, v / options.blobs]));
      result[mode] = { blobs: options.blobs, perBlob: total / options.blobs, byKind: per };
    }
    return result;
  } finally {
    agent.destroy();
  }
}
