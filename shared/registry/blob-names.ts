/** Where things live in the blob container. One place, so GC and the service agree. */

/** An upload assembles its blob in place; once verified, the digest index points at it (no copy). */
export function uploadBlobName(uploadId: string): string {
  return `blobs/${uploadId}`;
}

/** Manifests too large to keep inline in their metadata row, content-addressed. */
export function manifestBlobName(digest: string): string {
  return `manifests/${digest.replace(":", "/")}`;
}
