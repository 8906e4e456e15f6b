import { TableClient, type TableServiceClientOptions } from "@azure/data-tables";
import type { QueueServiceClient } from "@azure/storage-queue";
import type { CollectionStore } from "../ports/collection-store.js";
import type { AuthStorage } from "../ports/identity-storage.js";
import type { RegistryStorage } from "../ports/registry-storage.js";
import type { DeadLetterStore, SubscriptionStore } from "../ports/webhook-storage.js";
import type { BrowseStore } from "../ports/browse-store.js";
import { blobQueueVersionPolicy, tableVersionPolicy } from "./api-version-policy.js";
import { AzureBlobStore, type BlobAccountSource } from "./azure-blob-store.js";
import type { BlobAccount } from "./blob-account.js";
import { AzureBrowseStore } from "./azure-browse-store.js";
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
import { JsonQueue, type QueueService } from "./json-queue.js";
import {
  addPipelinePolicy,
  removeUnusedPolicies,
  storageCallPolicy,
  type StorageCallObserver,
} from "./storage-call-policy.js";
import { accountUrl, type StorageConnection } from "./storage-connection.js";

export { accountUrl, type StorageAccount, type StorageConnection } from "./storage-connection.js";

export type AzureStorageOptions = StorageConnection & {
  /** Blob container for layers and large manifests. */
  container: string;
  /** Prefix of the table names (letters and digits), so several registries can share an account. */
  tablePrefix: string;
  /** Pin `x-ms-version` on every request and the `sv` of SAS URLs (Azure Stack Hub); unset: the SDKs' own. */
  apiVersion?: string | undefined;
  /** Sees every storage call (metrics, error logs with the request id). */
  observeCalls?: StorageCallObserver;
};

/** Every store Stowage keeps in one storage account, over one set of SDK clients. */
export interface AzureStorage {
  registry: RegistryStorage;
  /** Read-only queries of the registry's metadata for the web UI. */
  browse: BrowseStore;
  /** The same store as `registry.collection`, always present. */
  collection: CollectionStore;
  auth: AuthStorage;
  webhooks: { subscriptions: SubscriptionStore; deadLetters: DeadLetterStore };
  /** A JSON message queue (created on first use). */
  queue<T>(name: string): JsonQueue<T>;
  /** Creates the tables if missing (idempotent); the container is made by the first blob write (container-on-demand.ts). */
  ensureCreated(): Promise<void>;
  /** Readiness: one cheap table read; rejects when storage does not answer before `signal` aborts. */
  probe(signal: AbortSignal): Promise<void>;
}

/**
 * Builds the Azure-backed stores. Clients are created here once and shared by every request;
 * nothing is sent until a store is used or `ensureCreated` runs. The blob and queue SDKs are
 * loaded by their first call.
 */
export function connectAzureStorage(options: AzureStorageOptions): AzureStorage {
  const observe = options.observeCalls;
  const clients = storageClients(options);
  const blobs: BlobAccountSource = clients.blobs;
  const table = (suffix: string) => clients.table(`${options.tablePrefix}${suffix}`);
  const tables = {
    repositories: table("repositories"),
    blobs: table("blobs"),
    catalog: table("catalog"),
    auth: table("auth"),
    webhooks: table("webhooks"),
  };
  if (observe) {
    const policy = storageCallPolicy("table", observe);
    for (const client of Object.values(tables)) addPipelinePolicy(client, policy);
  }
  const collection = new AzureCollectionStore(tables, blobs);
  return {
    collection,
    registry: {
      blobs: new AzureBlobStore(blobs),
      metadata: new AzureMetadataStore({
        repositories: tables.repositories,
        blobs: tables.blobs,
        catalog: tables.catalog,
      }),
      collection,
    },
    browse: new AzureBrowseStore({ repositories: tables.repositories, catalog: tables.catalog }),
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
    queue: (name) => new JsonQueue(clients.queueService, name),
    ensureCreated: async () => {
      await Promise.all(Object.values(tables).map((t) => t.createTable()));
    },
    probe: async (abortSignal) => {
      // a point query for a row that never exists: one round trip, nothing read
      const query = tables.auth.listEntities({ queryOptions: { filter: "PartitionKey eq 'readyz'" }, abortSignal });
      await query.byPage({ maxPageSize: 1 }).next();
    },
  };
}

/** The SDK clients, each with the API version pinned when one is configured; blobs and queues on first use. */
function storageClients(options: AzureStorageOptions) {
  const { apiVersion, observeCalls: observe } = options;
  const connection: StorageConnection = options;
  const tableOptions: TableServiceClientOptions = {
    allowInsecureConnection: true, // Azurite and the embedded storage speak plain HTTP on loopback
    ...(apiVersion ? { additionalPolicies: [tableVersionPolicy(apiVersion)] } : {}),
  };
  const table: (name: string) => TableClient =
    "connectionString" in connection
      ? (name) => leanTableClient(TableClient.fromConnectionString(connection.connectionString, name, tableOptions))
      : (name) =>
          leanTableClient(
            new TableClient(accountUrl(connection.account, "table"), name, connection.account.credential, tableOptions),
          );
  let account: Promise<BlobAccount> | undefined;
  const blobs = () =>
    (account ??= retryable(
      import("./blob-account.js").then(({ connectBlobAccount }) =>
        connectBlobAccount({ connection, container: options.container, apiVersion, observe }),
      ),
      () => (account = undefined),
    ));
  let queues: Promise<QueueServiceClient> | undefined;
  // the queue SDK is loaded by the first queue call (events and webhook delivery): not at start-up
  const queueService: QueueService = () =>
    (queues ??= retryable(
      import("@azure/storage-queue").then(async ({ QueueServiceClient, newPipeline }) => {
        let client =
          "connectionString" in connection
            ? QueueServiceClient.fromConnectionString(connection.connectionString)
            : new QueueServiceClient(accountUrl(connection.account, "queue"), connection.account.credential);
        if (apiVersion) {
          // the account credential as the blob SDK parsed it (the queue client keeps its own out of
          // reach); a SAS stays in the URL
          const pipeline = newPipeline((await blobs()).credential);
          pipeline.factories.push(blobQueueVersionPolicy(apiVersion));
          client = new QueueServiceClient(client.url, pipeline);
        }
        if (observe) addPipelinePolicy(client, storageCallPolicy("queue", observe));
        return client;
      }),
      () => (queues = undefined),
    ));
  return { blobs, queueService, table };
}

/** A client made on first use: if making it fails, `forget` drops it so the next call tries again. */
function retryable<T>(made: Promise<T>, forget: () => void): Promise<T> {
  return made.catch((error: unknown) => {
    forget();
    throw error;
  });
}

/** A table client without the pipeline policies Stowage never needs (see removeUnusedPolicies). */
function leanTableClient(client: TableClient): TableClient {
  removeUnusedPolicies(client);
  return client;
}
