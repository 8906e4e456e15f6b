import { createHash, type Hash } from "node:crypto";
import { createSHA256, type IHasher } from "hash-wasm";
import type { DigestAlgorithm } from "./references.js";

/**
 * Incremental digest of a byte stream.
 *
 * Two kinds, because Node's `crypto` is ~8x faster than WebAssembly but cannot save its state:
 * - fast: node:crypto, for a request that carries the rest of the blob (the common case:
 *   Docker, podman and skopeo stream a layer in one PATCH, containerd in one PUT);
 * - resumable: hash-wasm SHA-256, whose ~100-byte state is saved in the upload session so a
 *   later chunk can continue the hash on any instance without re-reading stored bytes.
 */
export interface Hasher {
  update(data: Uint8Array): void;
  /** Finishes the hash: `algorithm:hex`. Call once. */
  digest(): string;
  /** The state to continue from later, or undefined for a hasher that cannot be resumed. */
  save(): string | undefined;
}

export function fastHasher(algorithm: DigestAlgorithm = "sha256"): Hasher {
  const hash: Hash = createHash(algorithm);
  return {
    update: (data) => void hash.update(data),
    digest: () => `${algorithm}:${hash.digest("hex")}`,
    save: () => undefined,
  };
}

export async function resumableHasher(state?: string): Promise<Hasher> {
  const hash: IHasher = await createSHA256();
  if (state) hash.load(Buffer.from(state, "base64"));
  else hash.init();
  return {
    update: (data) => void hash.update(data),
    digest: () => `sha256:${hash.digest("hex")}`,
    save: () => Buffer.from(hash.save()).toString("base64"),
  };
}

/** Digest of bytes already in memory (manifests). */
export function digestOf(data: Uint8Array, algorithm: DigestAlgorithm = "sha256"): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest("hex")}`;
}

/** Digest of a stream read to its end (the slow path: re-reading stored bytes). */
export async function digestStream(stream: AsyncIterable<Uint8Array>, hasher: Hasher): Promise<string> {
  for await (const chunk of stream) hasher.update(chunk);
  return hasher.digest();
}
