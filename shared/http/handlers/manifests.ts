import { RegistryError } from "../../registry/errors.js";
import { assertReference, isDigest, isTag } from "../../registry/references.js";
import { readLimited } from "../body.js";
import { API_VERSION_HEADER } from "../error-response.js";
import type { Handler } from "../route-table.js";

function manifestHeaders(digest: string, mediaType: string, size: number): Record<string, string> {
  return {
    ...API_VERSION_HEADER,
    "Content-Type": mediaType,
    "Content-Length": String(size),
    "Docker-Content-Digest": digest,
    ETag: `"${digest}"`,
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
export const getManifest: Handler = async ({ registry, params, notify }) => {
  const repository = params.name as string;
  const reference = existingReference(params.reference as string);
  const { digest, mediaType, content } = await registry.manifests.get(repository, reference);
  const size = content.byteLength;
  await notify("pull", "manifests", { repository, digest, mediaType, size, ...tagOf(reference) });
  return new Response(content, { status: 200, headers: manifestHeaders(digest, mediaType, size) });
};

export const putManifest: Handler = async ({ registry, params, request, notify }) => {
  const name = params.name as string;
  const reference = assertReference(params.reference as string);
  const bytes = await readLimited(request, registry.manifests.maxBytes);
  const result = await registry.manifests.put(name, reference, bytes, request.headers.get("content-type") ?? undefined);
  const { digest, mediaType, size } = result;
  await notify("push", "manifests", { repository: name, digest, mediaType, size, ...tagOf(reference) });
  const headers: Record<string, string> = {
    ...API_VERSION_HEADER,
    Location: `/v2/${name}/manifests/${result.digest}`,
    "Docker-Content-Digest": result.digest,
    "Content-Length": "0",
  };
  if (result.subject) headers["OCI-Subject"] = result.subject;
  return new Response(null, { status: 201, headers });
};

export const deleteManifest: Handler = async ({ registry, params, notify }) => {
  const repository = params.name as string;
  const reference = existingReference(params.reference as string);
  await registry.manifests.delete(repository, reference);
  await notify(
    "delete",
    "manifests",
    isDigest(reference) ? { repository, digest: reference } : { repository, tag: reference },
  );
  return new Response(null, { status: 202, headers: { ...API_VERSION_HEADER, "Content-Length": "0" } });
};

function tagOf(reference: string): { tag?: string } {
  return isDigest(reference) ? {} : { tag: reference };
}
