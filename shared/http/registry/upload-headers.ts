/** Headers that tell a client where an upload stands (202 on POST/PATCH, 204 on GET, 416). */
export function uploadHeaders(repository: string, uploadId: string, offset: number): Record<string, string> {
  return {
    Location: `/v2/${repository}/blobs/uploads/${uploadId}`,
    // inclusive end; "0-0" for an empty upload, as distribution and clients expect
    Range: `0-${Math.max(offset - 1, 0)}`,
    "Docker-Upload-UUID": uploadId,
  };
}
