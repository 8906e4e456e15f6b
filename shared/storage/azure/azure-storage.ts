import { TableClient } from "@azure/data-tables";
import { BlobServiceClient } from "@azure/storage-blob";
import type { CollectionStore } from "../ports/collection-store.js";
import type { AuthStorage } from "../ports/identity-storage.js";
import type { RegistryStorage } from "../ports/registry-storage.js";
import type { DeadLetterStore, SubscriptionStore } from "../ports/webhook-storage.js";
import { AzureBlobStore } from "./azure-blob-store.js";
import { AzureCollectionStore } from "./azure-collection-store.js";
import {
  AzureBootstrapMarker,
  AzureFamiliarAddressStore,
  AzureIdentityStore,
  AzureLoginFailureStore,
  AzureRefreshTokenStore,
} from "./azure-identity-store.js";
import { AzureMetadataStore } from "./azure-metadata-store.js";
import { AzureDeadLetterStore, AzureSubscriptionStore } from "./azure-webhook-store.js";
import { JsonQueue } from "./json-queue.js";

export interface AzureStorageOptions {
  connectionString: string;
  /** Blob container for layers and large manifests. */
  container: string;
  /** Prefix of the table names (letters and digits), so several registries can share an account. */
  tablePrefix: string;
}

/** Every store Stowage keeps in one storage account, over one set of SDK clients. */
export interface AzureStorage {
  registry: RegistryStorage;
  /** The same store as `registry.collection`, always present. */
  collection: CollectionStore;
  auth: AuthStorage;
  webhooks: { subscriptions: SubscriptionStore; deadLetters: DeadLetterStore };
  /** A JSON message queue (created on first use). */
  queue<T>(name: string): JsonQueue<T>;
  /** Creates the container and the tables if missing (idempotent). */
  ensureCreated(): Promise<void>;
}

/**
 * Builds the Azure-backed stores. Clients are created here once and shared by every request;
 * nothing is sent until a store is used or `ensureCreated` runs.
 */
export function connectAzureStorage(options: AzureStorageOptions): AzureStorage {
  const { connectionString } = options;
  const container = BlobServiceClient.fromConnectionString(connectionString).getContainerClient(options.container);
  const table = (suffix: string) =>
    TableClient.fromConnectionString(connectionString, `${options.tablePrefix}${suffix}`, {
      allowInsecureConnection: true,
    });
  const tables = {
    repositories: table("repositories"),
    blobs: table("blobs"),
    catalog: table("catalog"),
    auth: table("auth"),
    webhooks: table("webhooks"),
  };
  const collection = new AzureCollectionStore(tables, container);
  return {
    collection,
    registry: {
      blobs: new AzureBlobStore(container),
      metadata: new AzureMetadataStore({
        repositories: tables.repositories,
        blobs: tables.blobs,
        catalog: tables.catalog,
      }),
      collection,
    },
    auth: {
      identities: new AzureIdentityStore(tables.auth),
      refreshTokens: new AzureRefreshTokenStore(tables.auth),
      loginFailures: new AzureLoginFailureStore(tables.auth),
      familiarAddresses: new AzureFamiliarAddressStore(tables.auth),
      bootstrap: new AzureBootstrapMarker(tables.auth),
    },
    webhooks: {
      subscriptions: new AzureSubscriptionStore(tables.webhooks),
      deadLetters: new AzureDeadLetterStore(tables.webhooks),
    },
    queue: (name) => new JsonQueue(connectionString, name),
    ensureCreated: async () => {
      await Promise.all([container.createIfNotExists(), ...Object.values(tables).map((t) => t.createTable())]);
    },
  };
}
