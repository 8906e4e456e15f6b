import { bytesStream } from "../../../lib/bytes-stream.js";
import { RegistryError } from "../../../registry/errors.js";
import { assertReference, isDigest, isTag } from "../../../registry/references.js";
import { readLimited } from "../../body.js";
import { API_VERSION_HEADER } from "../../error-response.js";
import type { Handler } from "../route-table.js";

function manifestHeaders(digest: string, mediaType: string, size: number): Record<string, string> {
  return {
    "Content-Type": mediaType,
    "Content-Length": String(size),
    "Docker-Content-Digest": digest,
    ETag: `"${digest}"`,
    ...API_VERSION_HEADER,
  };
}

/**
 * On reads and deletes, a reference that could never be a tag names no manifest: 404, as
 * distribution answers and the conformance suite expects. Only a PUT gets TAG_INVALID.
 */
function existingReference(reference: string): string {
  if (!isDigest(reference) && !isTag(reference))
    throw new RegistryError("MANIFEST_UNKNOWN", "manifest unknown", { reference });
  return assertReference(reference);
}

export const headManifest: Handler = async ({ registry, params }) => {
  const { digest, mediaType, size } = await registry.manifests.stat(
    params.name as string,
    existingReference(params.reference as string),
  );
  return new Response(null, { status: 200, headers: manifestHeaders(digest, mediaType, size) });
};

/**
 * The stored bytes, exactly as pushed, with their own media type. Clients list what they
 * accept, but a registry cannot convert between formats without changing the digest, so
 * (like zot and ACR) we serve what is stored and let the client decide.
 */
export const getManifest: Handler = async ({ registry, params }) => {
  const reference = existingReference(params.reference as string);
  const { digest, mediaType, content } = await registry.manifests.get(params.name as string, reference);
  const headers = manifestHeaders(digest, mediaType, content.byteLength);
  return new Response(bytesStream(content), { status: 200, headers });
};

export const putManifest: Handler = async ({ registry, params, request }) => {
  const name = params.name as string;
  const reference = assertReference(params.reference as string);
  const bytes = await readLimited(request, registry.manifests.maxBytes);
  const result = await registry.manifests.put(name, reference, bytes, request.headers.get("content-type") ?? undefined);
  const headers: Record<string, string> = {
    Location: `/v2/${name}/manifests/${result.digest}`,
    "Docker-Content-Digest": result.digest,
    "Content-Length": "0",
    ...API_VERSION_HEADER,
  };
  if (result.subject) headers["OCI-Subject"] = result.subject;
  return new Response(null, { status: 201, headers });
};

export const deleteManifest: Handler = async ({ registry, params }) => {
  await registry.manifests.delete(params.name as string, existingReference(params.reference as string));
  return new Response(null, { status: 202, headers: { "Content-Length": "0", ...API_VERSION_HEADER } });
};
