import {
  BlobSASPermissions,
  BlobServiceClient,
  newPipeline,
  StorageSharedKeyCredential,
  type ContainerClient,
} from "@azure/storage-blob";
import { blobQueueVersionPolicy } from "./api-version-policy.js";
import { containerOnDemandPolicy } from "./container-on-demand.js";
import { accountUrl, type StorageConnection } from "./storage-connection.js";
import {
  addPipelinePolicy,
  removeUnusedPolicies,
  storageCallPolicy,
  type StorageCallObserver,
} from "./storage-call-policy.js";
import { undiciTransportPolicy } from "./undici-transport.js";

/**
 * The blob side of the account. This module (and with it the blob SDK, the largest code a
 * start would otherwise parse) is imported by the first blob call, not at start-up: a token,
 * a manifest read by tag or a catalog page never needs it.
 */
export interface BlobAccount {
  container: ContainerClient;
  /** The account credential as the blob SDK parsed it (the queue client reuses it to pin a version). */
  credential: BlobServiceClient["credential"];
  /** A read-only SAS URL for a blob, valid `ttlSeconds`; undefined without an account key to sign with. */
  signedReadUrl(blobName: string, ttlSeconds: number): Promise<string | undefined>;
}

export interface BlobAccountOptions {
  connection: StorageConnection;
  container: string;
  /** Pins `x-ms-version` and the `sv` of SAS URLs (Azure Stack Hub); unset: the SDK's own. */
  apiVersion?: string | undefined;
  observe?: StorageCallObserver | undefined;
}

export function connectBlobAccount(options: BlobAccountOptions): BlobAccount {
  const { connection, apiVersion } = options;
  // a connection string is parsed by the SDK (account key, SAS, Azurite, custom endpoints)
  let service =
    "connectionString" in connection
      ? BlobServiceClient.fromConnectionString(connection.connectionString)
      : new BlobServiceClient(accountUrl(connection.account, "blob"), connection.account.credential);
  const credential = service.credential;
  if (apiVersion) {
    const pipeline = newPipeline(credential);
    pipeline.factories.push(blobQueueVersionPolicy(apiVersion));
    service = new BlobServiceClient(service.url, pipeline);
  }
  const container = service.getContainerClient(options.container);
  removeUnusedPolicies(container);
  if (options.observe) addPipelinePolicy(container, storageCallPolicy("blob", options.observe));
  const create = () => container.createIfNotExists();
  addPipelinePolicy(container, containerOnDemandPolicy(create), { afterPhase: "Deserialize" });
  // downloads (a streamed pull) received by undici: see undici-transport.ts
  addPipelinePolicy(container, undiciTransportPolicy(), { afterPhase: "Sign" });
  return {
    container,
    credential,
    async signedReadUrl(blobName, ttlSeconds) {
      const blob = container.getBlobClient(blobName);
      // Only an account key can sign here. With a token credential a user delegation key could,
      // but Azure Stack Hub has no Entra ID storage authorization: blobs stream through instead.
      if (!(blob.credential instanceof StorageSharedKeyCredential)) return undefined;
      const now = Date.now();
      return blob.generateSasUrl({
        permissions: BlobSASPermissions.parse("r"),
        // a little slack for clock skew between us, the client and storage
        startsOn: new Date(now - 60_000),
        expiresOn: new Date(now + ttlSeconds * 1000),
        ...(apiVersion ? { version: apiVersion } : {}),
      });
    },
  };
}
