import { OCI_INDEX } from "../../../registry/media-types.js";
import { assertDigest } from "../../../registry/references.js";
import { API_VERSION_HEADER } from "../../error-response.js";
import type { Handler } from "../route-table.js";

/**
 * OCI 1.1 referrers API: an image index of the manifests whose subject is the digest.
 * Always 200 (an empty index when there are none, or the subject is unknown).
 */
export const listReferrers: Handler = async ({ registry, params, url }) => {
  const subject = assertDigest(params.digest as string);
  const artifactType = url.searchParams.get("artifactType") ?? undefined;
  const referrers = await registry.catalog.referrers(params.name as string, subject, artifactType);
  const headers: Record<string, string> = { "Content-Type": OCI_INDEX, ...API_VERSION_HEADER };
  if (artifactType !== undefined) headers["OCI-Filters-Applied"] = "artifactType";
  const index = {
    schemaVersion: 2,
    mediaType: OCI_INDEX,
    manifests: referrers.map(({ mediaType, digest, size, artifactType, annotations }) => ({
      mediaType,
      digest,
      size,
      ...(artifactType ? { artifactType } : {}),
      ...(annotations ? { annotations } : {}),
    })),
  };
  return new Response(JSON.stringify(index), { status: 200, headers });
};
