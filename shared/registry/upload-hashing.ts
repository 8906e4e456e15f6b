import type { BlobStore } from "../storage/ports/blob-store.js";
import type { UploadSession } from "../storage/ports/metadata-store.js";
import { uploadBlobName } from "./blob-names.js";
import { digestStream, fastHasher, resumableHasher, type Hasher } from "./hasher.js";

/**
 * The hash an upload continues with: fresh, resumed from the sealed state, or (rarely) rebuilt
 * from the stored bytes. `resumable`: more chunks will likely follow, so keep a savable state.
 */
export async function continueHash(blobs: BlobStore, session: UploadSession, resumable: boolean): Promise<Hasher> {
  if (session.offset === 0) return resumable ? resumableHasher() : fastHasher();
  if (session.hashState) return resumableHasher(session.hashState);
  // The earlier bytes were hashed fast (one streamed PATCH) and a client sent more after all:
  // rebuild a resumable state from the stored bytes, once. Rare, and correct (the commit's
  // etag condition refuses the result if the bytes changed since the state).
  const hasher = await resumableHasher();
  for await (const chunk of await blobs.read(uploadBlobName(session.id), 0, session.offset)) hasher.update(chunk);
  return hasher;
}

/** Makes `digestSoFar` available when the saved state allows it cheaply (rows of earlier versions). */
export async function finishHash(session: UploadSession): Promise<UploadSession> {
  if (session.digestSoFar || !session.hashState) return session;
  const hasher = await resumableHasher(session.hashState);
  return { ...session, digestSoFar: hasher.digest() };
}

/** Digest of the stored bytes with another algorithm, or of an empty upload. */
export async function rehash(blobs: BlobStore, session: UploadSession, hasher: Hasher): Promise<string> {
  if (session.offset === 0) return hasher.digest();
  return digestStream(await blobs.read(uploadBlobName(session.id)), hasher);
}
