import type { BlobStore } from "./blob-store.js";
import type { CollectionStore } from "./collection-store.js";
import type { MetadataStore } from "./metadata-store.js";

/** Everything the registry stores, behind its ports. */
export interface RegistryStorage {
  blobs: BlobStore;
  metadata: MetadataStore;
  /** Garbage collection's view (and the claim pushes make); absent in hand-built test registries. */
  collection?: CollectionStore;
}
