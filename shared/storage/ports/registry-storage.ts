import type { BlobStore } from "./blob-store.js";
import type { MetadataStore } from "./metadata-store.js";

/** Everything the registry stores, behind its ports. */
export interface RegistryStorage {
  blobs: BlobStore;
  metadata: MetadataStore;
}
