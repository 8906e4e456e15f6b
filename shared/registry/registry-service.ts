import type { Storage } from "../storage/ports.js";
import { BlobService, type BlobServiceOptions } from "./blob-service.js";
import { CatalogService } from "./catalog-service.js";
import { ManifestService } from "./manifest-service.js";
import { UploadService, type UploadOptions } from "./upload-service.js";

export interface RegistryOptions extends UploadOptions, BlobServiceOptions {
  maxManifestBytes: number;
  maxPageSize: number;
}

/** The registry domain: one object per concern, all over the same storage ports. */
export class RegistryService {
  readonly blobs: BlobService;
  readonly uploads: UploadService;
  readonly manifests: ManifestService;
  readonly catalog: CatalogService;

  constructor(storage: Storage, options: RegistryOptions) {
    this.blobs = new BlobService(storage.blobs, storage.metadata, options);
    this.uploads = new UploadService(storage.blobs, storage.metadata, options);
    this.manifests = new ManifestService(storage.blobs, storage.metadata, options.maxManifestBytes);
    this.catalog = new CatalogService(storage.metadata, options.maxPageSize);
  }
}
