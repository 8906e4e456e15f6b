import type { RegistryStorage } from "../storage/ports/registry-storage.js";
import { BlobService, type BlobServiceOptions, type Blobs } from "./blob-service.js";
import { CatalogService, type Catalog } from "./catalog-service.js";
import { ManifestService, type Manifests } from "./manifest-service.js";
import { UploadService, type UploadOptions } from "./upload-service.js";
import type { Uploads } from "./uploads.js";

export interface RegistryOptions extends UploadOptions, BlobServiceOptions {
  maxManifestBytes: number;
  maxManifestReferences: number;
  maxPageSize: number;
}

/**
 * The registry domain as its callers see it: one object per concern. Decorators (events)
 * implement the same interface around the service.
 */
export interface Registry {
  readonly blobs: Blobs;
  readonly uploads: Uploads;
  readonly manifests: Manifests;
  readonly catalog: Catalog;
}

/** The registry domain over the storage ports. */
export class RegistryService implements Registry {
  readonly blobs: BlobService;
  readonly uploads: UploadService;
  readonly manifests: ManifestService;
  readonly catalog: CatalogService;

  constructor(storage: RegistryStorage, options: RegistryOptions) {
    this.blobs = new BlobService(storage.blobs, storage.metadata, options);
    this.uploads = new UploadService(storage.blobs, storage.metadata, options, storage.collection);
    this.manifests = new ManifestService(storage.blobs, storage.metadata, options, storage.collection);
    this.catalog = new CatalogService(storage.metadata, options.maxPageSize);
  }
}
