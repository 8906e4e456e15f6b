import { TableClient } from "@azure/data-tables";
import { BlobServiceClient } from "@azure/storage-blob";
import type { AuthStorage } from "../ports/identity-storage.js";
import type { RegistryStorage } from "../ports/registry-storage.js";
import type { DeadLetterStore, SubscriptionStore } from "../ports/webhook-storage.js";
import { AzureBlobStore } from "./azure-blob-store.js";
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
import { addPipelinePolicy, storageCallPolicy, type StorageCallObserver } from "./storage-call-policy.js";

export interface AzureStorageOptions {
  connectionString: string;
  /** Blob container for layers and large manifests. */
  container: string;
  /** Prefix of the table names (letters and digits), so several registries can share an account. */
  tablePrefix: string;
  /** Sees every storage call (metrics, error logs with the request id). */
  observeCalls?: StorageCallObserver;
}

/** Every store Stowage keeps in one storage account, over one set of SDK clients. */
export interface AzureStorage {
  registry: RegistryStorage;
  auth: AuthStorage;
  webhooks: { subscriptions: SubscriptionStore; deadLetters: DeadLetterStore };
  /** A JSON message queue (created on first use). */
  queue<T>(name: string): JsonQueue<T>;
  /** Creates the container and the tables if missing (idempotent). */
  ensureCreated(): Promise<void>;
  /** Readiness: one cheap table read; rejects when storage does not answer before `signal` aborts. */
  probe(signal: AbortSignal): Promise<void>;
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
  const observe = options.observeCalls;
  if (observe) {
    addPipelinePolicy(container, storageCallPolicy("blob", observe));
    const policy = storageCallPolicy("table", observe);
    for (const client of Object.values(tables)) addPipelinePolicy(client, policy);
  }
  return {
    registry: {
      blobs: new AzureBlobStore(container),
      metadata: new AzureMetadataStore({
        repositories: tables.repositories,
        blobs: tables.blobs,
        catalog: tables.catalog,
      }),
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
    queue: (name) => new JsonQueue(connectionString, name, observe),
    ensureCreated: async () => {
      await Promise.all([container.createIfNotExists(), ...Object.values(tables).map((t) => t.createTable())]);
    },
    probe: async (abortSignal) => {
      // a point query for a row that never exists: one round trip, nothing read
      const query = tables.auth.listEntities({ queryOptions: { filter: "PartitionKey eq 'readyz'" }, abortSignal });
      await query.byPage({ maxPageSize: 1 }).next();
    },
  };
}
