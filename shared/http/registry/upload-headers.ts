/**
 * The query parameter of an upload URL that carries its sealed state (registry/upload-state.ts).
 * Clients reuse the Location as given (appending `digest=` for PUT); the name is ours alone.
 */
export const UPLOAD_STATE_PARAM = "_stowage_state";

/** Headers that tell a client where an upload stands (202 on POST/PATCH, 204 on GET, 416). */
export function uploadHeaders(
  repository: string,
  uploadId: string,
  offset: number,
  state: string | undefined,
): Record<string, string> {
  const query = state === undefined ? "" : `?${UPLOAD_STATE_PARAM}=${encodeURIComponent(state)}`;
  return {
    Location: `/v2/${repository}/blobs/uploads/${uploadId}${query}`,
    // inclusive end; "0-0" for an empty upload, as distribution and clients expect
    Range: `0-${Math.max(offset - 1, 0)}`,
    "Docker-Upload-UUID": uploadId,
  };
}
