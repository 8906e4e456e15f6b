import type { BlobStore } from "../storage/ports/blob-store.js";
import type { StoredManifestRow } from "../storage/ports/collection-store.js";
import { parseManifest, type Descriptor } from "./manifest-parser.js";

/** What a stored manifest points at, as garbage collection, retention and usage need it. */
export interface ManifestReferences {
  /** Config and layers stored in the registry (foreign layers with `urls` are not). */
  blobs: Descriptor[];
  /** Child manifests of an index. */
  manifests: string[];
}

/**
 * Re-reads a stored manifest's references. Stored manifests were validated on push, so a
 * failure here is a real fault: it is thrown, and a sweep stops rather than guess (guessing
 * "no references" could delete layers that are in use).
 */
export async function referencesOf(row: StoredManifestRow, blobs: BlobStore): Promise<ManifestReferences> {
  const content = row.content ?? (await blobs.readAll(row.blobName as string));
  const parsed = parseManifest(content, row.mediaType);
  return {
    blobs: parsed.blobs.filter((d) => !d.urls),
    manifests: parsed.manifests.map((d) => d.digest),
  };
}
