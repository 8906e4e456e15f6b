import { RegistryError } from "../../../registry/errors.js";
import { assertDigest } from "../../../registry/references.js";
import { API_VERSION_HEADER } from "../../error-response.js";
import { resolveByteRange } from "../ranges.js";
import type { Handler } from "../route-table.js";

/** Headers every blob answer carries. Content is immutable, so it may be cached for good. */
function blobHeaders(digest: string, size: number): Record<string, string> {
  return {
    "Content-Type": "application/octet-stream",
    "Content-Length": String(size),
    "Docker-Content-Digest": digest,
    ETag: `"${digest}"`,
    "Accept-Ranges": "bytes",
    "Cache-Control": "max-age=31536000, immutable",
    ...API_VERSION_HEADER,
  };
}

/** The digest of a blob to read or delete; an empty one names no blob. */
function blobDigest(params: Record<string, string>): string {
  if (params.digest === "") throw new RegistryError("BLOB_UNKNOWN", "blob unknown to registry", { digest: "" });
  return assertDigest(params.digest as string);
}

export const headBlob: Handler = async ({ registry, params }) => {
  const digest = blobDigest(params);
  const record = await registry.blobs.stat(params.name as string, digest);
  return new Response(null, { status: 200, headers: blobHeaders(digest, record.size) });
};

export const getBlob: Handler = async ({ registry, params, request }) => {
  const digest = blobDigest(params);
  const content = await registry.blobs.open(params.name as string, digest, (size) =>
    resolveByteRange(request.headers.get("range"), size),
  );
  if (content.kind === "redirect") {
    return new Response(null, {
      status: 307,
      headers: { Location: content.url, "Docker-Content-Digest": digest, ...API_VERSION_HEADER },
    });
  }
  const { record, range, body } = content;
  if (!range) return new Response(body, { status: 200, headers: blobHeaders(digest, record.size) });
  return new Response(body, {
    status: 206,
    headers: {
      "Content-Range": `bytes ${range.start}-${range.end}/${record.size}`,
      ...blobHeaders(digest, range.end - range.start + 1),
    },
  });
};

export const deleteBlob: Handler = async ({ registry, params }) => {
  await registry.blobs.delete(params.name as string, blobDigest(params));
  return new Response(null, { status: 202, headers: { "Content-Length": "0", ...API_VERSION_HEADER } });
};
