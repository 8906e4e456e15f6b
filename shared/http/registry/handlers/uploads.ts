import { RegistryError } from "../../../registry/errors.js";
import { assertDigest, assertName, isUploadId } from "../../../registry/references.js";
import type { StartOptions, UploadProgress, UploadRef } from "../../../registry/uploads.js";
import { streamOf } from "../../body.js";
import { API_VERSION_HEADER } from "../../error-response.js";
import { parseChunkRange } from "../ranges.js";
import type { Handler, RouteContext } from "../route-table.js";
import { UPLOAD_STATE_PARAM, uploadHeaders } from "../upload-headers.js";

/** Chunk sizes we tell clients about (OCI-Chunk-Min-Length / OCI-Chunk-Max-Length). */
export interface ChunkLimits {
  min: number;
  max: number | undefined;
}

function accepted(upload: UploadRef, progress: UploadProgress, limits: ChunkLimits, status = 202): Response {
  const headers: Record<string, string> = {
    "OCI-Chunk-Min-Length": String(limits.min),
    ...API_VERSION_HEADER,
    ...uploadHeaders(upload.repository, upload.id, progress.offset, progress.state),
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
      Location: `/v2/${name}/blobs/${digest}`,
      "Docker-Content-Digest": digest,
      "Content-Length": "0",
      ...API_VERSION_HEADER,
    },
  });
}

/** The upload a URL names: repository, id, and the sealed state its query carries. */
function uploadRef({ params, url }: RouteContext): UploadRef {
  const id = params.uuid as string;
  if (!isUploadId(id)) throw new RegistryError("BLOB_UPLOAD_UNKNOWN", "upload unknown", { id });
  return { repository: params.name as string, id, state: url.searchParams.get(UPLOAD_STATE_PARAM) ?? undefined };
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
    return accepted({ repository: name, id: result.id }, { offset: 0, state: result.state }, limits);
  };

  const status: Handler = async (context) => {
    const upload = uploadRef(context);
    return accepted(upload, await context.registry.uploads.status(upload), limits, 204);
  };

  const append: Handler = async (context) => {
    const { registry, request } = context;
    const upload = uploadRef(context);
    const range = parseChunkRange(request.headers.get("content-range"));
    return accepted(upload, await registry.uploads.append(upload, streamOf(request), range), limits);
  };

  const complete: Handler = async (context) => {
    const { registry, url, request } = context;
    const upload = uploadRef(context);
    const digest = url.searchParams.get("digest");
    if (digest === null) throw new RegistryError("DIGEST_INVALID", "digest query parameter required");
    const record = await registry.uploads.complete(upload, assertDigest(digest), streamOf(request));
    return created(upload.repository, record.digest);
  };

  const cancel: Handler = async (context) => {
    await context.registry.uploads.cancel(uploadRef(context));
    return new Response(null, { status: 204, headers: API_VERSION_HEADER });
  };

  return { start, status, append, complete, cancel };
}
