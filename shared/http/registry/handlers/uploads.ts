import { RegistryError } from "../../../registry/errors.js";
import { assertDigest, assertName, isUploadId } from "../../../registry/references.js";
import type { StartOptions } from "../../../registry/upload-service.js";
import { streamOf } from "../../body.js";
import { API_VERSION_HEADER } from "../../error-response.js";
import { parseChunkRange } from "../ranges.js";
import type { Handler, RouteContext } from "../route-table.js";
import { uploadHeaders } from "../upload-headers.js";

/** Chunk sizes we tell clients about (OCI-Chunk-Min-Length / OCI-Chunk-Max-Length). */
export interface ChunkLimits {
  min: number;
  max: number | undefined;
}

function accepted(name: string, id: string, offset: number, limits: ChunkLimits, status = 202): Response {
  const headers: Record<string, string> = {
    ...API_VERSION_HEADER,
    ...uploadHeaders(name, id, offset),
    "OCI-Chunk-Min-Length": String(limits.min),
  };
  // a 204 must not carry Content-Length (RFC 9110, 8.6)
  if (status !== 204) headers["Content-Length"] = "0";
  if (limits.max !== undefined) headers["OCI-Chunk-Max-Length"] = String(limits.max);
  return new Response(null, { status, headers });
}

function created(name: string, digest: string): Response {
  return new Response(null, {
    status: 201,
    headers: {
      ...API_VERSION_HEADER,
      Location: `/v2/${name}/blobs/${digest}`,
      "Docker-Content-Digest": digest,
      "Content-Length": "0",
    },
  });
}

function uploadId({ params }: RouteContext): string {
  const id = params.uuid as string;
  if (!isUploadId(id)) throw new RegistryError("BLOB_UPLOAD_UNKNOWN", "upload unknown", { id });
  return id;
}

export function uploadHandlers(limits: ChunkLimits) {
  const start: Handler = async ({ registry, params, url, request, grant }) => {
    const name = params.name as string;
    const query = url.searchParams;
    const digest = query.get("digest");
    const mount = query.get("mount");
    const from = query.get("from");
    const options: StartOptions = {};
    if (digest !== null) options.digest = assertDigest(digest);
    // mount only from where the caller could read anyway; otherwise it is a plain upload
    if (mount !== null && from === null) options.mount = { digest: assertDigest(mount) };
    if (mount !== null && from !== null && grant.allows("repository", assertName(from), "pull")) {
      options.mount = { digest: assertDigest(mount), from };
    }
    const result = await registry.uploads.start(name, digest !== null ? streamOf(request) : null, options);
    if (result.kind === "blob") return created(name, result.record.digest);
    return accepted(name, result.id, 0, limits);
  };

  const status: Handler = async (context) => {
    const name = context.params.name as string;
    const id = uploadId(context);
    const offset = await context.registry.uploads.status(name, id);
    return accepted(name, id, offset, limits, 204);
  };

  const append: Handler = async (context) => {
    const { registry, params, request } = context;
    const name = params.name as string;
    const id = uploadId(context);
    const range = parseChunkRange(request.headers.get("content-range"));
    const offset = await registry.uploads.append(name, id, streamOf(request), range);
    return accepted(name, id, offset, limits);
  };

  const complete: Handler = async (context) => {
    const { registry, params, url, request } = context;
    const name = params.name as string;
    const id = uploadId(context);
    const digest = url.searchParams.get("digest");
    if (digest === null) throw new RegistryError("DIGEST_INVALID", "digest query parameter required");
    const record = await registry.uploads.complete(name, id, assertDigest(digest), streamOf(request));
    return created(name, record.digest);
  };

  const cancel: Handler = async (context) => {
    await context.registry.uploads.cancel(context.params.name as string, uploadId(context));
    return new Response(null, { status: 204, headers: API_VERSION_HEADER });
  };

  return { start, status, append, complete, cancel };
}
