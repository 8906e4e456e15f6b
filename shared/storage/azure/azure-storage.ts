import { BlobServiceClient } from "@azure/storage-blob";
import { TableClient } from "@azure/data-tables";
import type { Storage } from "../ports.js";
import { AzureBlobStore } from "./azure-blob-store.js";
import { AzureMetadataStore } from "./azure-metadata-store.js";

export interface AzureStorageOptions {
  connectionString: string;
  /** Blob container for layers and large manifests. */
  container: string;
  /** Prefix of the table names (letters and digits), so several registries can share an account. */
  tablePrefix: string;
}

/**
 * Builds the Azure-backed stores. Clients are created once and reused by every request;
 * the container and tables are created if missing.
 */
export async function createAzureStorage(options: AzureStorageOptions): Promise<Storage> {
  const service = BlobServiceClient.fromConnectionString(options.connectionString);
  const container = service.getContainerClient(options.container);
  const table = (suffix: string) =>
    TableClient.fromConnectionString(options.connectionString, `${options.tablePrefix}${suffix}`, {
      allowInsecureConnection: true,
    });
  const tables = { repositories: table("repositories"), blobs: table("blobs"), catalog: table("catalog") };
  await Promise.all([container.createIfNotExists(), ...Object.values(tables).map((t) => t.createTable())]);
  return {
    blobs: new AzureBlobStore(container),
    metadata: new AzureMetadataStore(tables),
  };
}
