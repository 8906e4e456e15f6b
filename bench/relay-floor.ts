import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { ContainerSASPermissions, ContainerClient } from "@azure/storage-blob";
import { AzureNamedKeyCredential, generateTableSas, TableClient } from "@azure/data-tables";
import { freePort } from "../shared/server/azurite.js";
import { startChild } from "./child-process.js";
import { authHeaders } from "./credentials.js";
import { call, expectStatus } from "./http.js";
import { runLoad, type LoadResult } from "./load.js";
import { relayPartitionKey } from "./relay-keys.js";
import { MANIFEST_ACCEPT } from "./small-image.js";
import { waitUntilServing, type Target } from "./target.js";

const SERVER = fileURLToPath(new URL("./relay-server.js", import.meta.url));
const LIFETIME_MS = 6 * 3600_000;

export interface RelayControl extends Target {
  /** Stores the tag row a HEAD of `repository:tag` reads, shaped as the registry stores it. */
  seedTag(
    repository: string,
    tag: string,
    manifest: { digest: string; mediaType: string; content: Buffer },
  ): Promise<void>;
}

/**
 * Starts the relay control (relay-server.ts) in a process of its own, like a registry, over a
 * container and a table of its own reached through SAS URLs; they go when the bench's Azurite does.
 */
export async function startRelayFloor(connectionString: string): Promise<RelayControl> {
  const id = randomBytes(4).toString("hex");
  const container = new ContainerClient(connectionString, `bench-relay-${id}`);
  await container.createIfNotExists();
  const blobs = await container.generateSasUrl({
    permissions: ContainerSASPermissions.parse("racwd"),
    expiresOn: new Date(Date.now() + LIFETIME_MS),
  });
  const table = TableClient.fromConnectionString(connectionString, `benchrelay${id}`, {
    allowInsecureConnection: true,
  });
  await table.createTable();
  const account = Object.fromEntries(connectionString.split(";").map((part) => part.split(/=(.*)/s, 2)));
  const credential = new AzureNamedKeyCredential(account.AccountName ?? "", account.AccountKey ?? "");
  const sas = generateTableSas(table.tableName, credential, {
    permissions: { query: true },
    expiresOn: new Date(Date.now() + LIFETIME_MS),
  });
  const port = await freePort("127.0.0.1");
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    PORT: String(port),
    RELAY_CONTAINER_URL: blobs,
    RELAY_TABLE_URL: `${table.url}/${table.tableName}?${sas}`,
  };
  const child = await startChild("relay", process.execPath, [SERVER], env);
  const url = `http://127.0.0.1:${port}`;
  try {
    const startMs = await waitUntilServing(child, url, "relay");
    const seedTag: RelayControl["seedTag"] = async (repository, tag, manifest) => {
      const { digest, mediaType, content } = manifest;
      const row = { digest, mediaType, size: BigInt(content.length), content };
      await table.upsertEntity(
        { partitionKey: relayPartitionKey(repository), rowKey: `tag:${tag}`, ...row },
        "Replace",
      );
    };
    return { name: "relay", url, pid: child.pid, startMs, child, seedTag };
  } catch (error) {
    await child.stop();
    throw error;
  }
}

/**
 * HEAD by tag on the relay control, as the manifest load makes it on the registries: the
 * manifest Stowage serves for `repository:tag` is stored as the relay's tag row first.
 */
export async function measureRelayHead(
  stowage: Target,
  relay: RelayControl,
  repository: string,
  tag: string,
  options: { connections: number; loadSeconds: number },
): Promise<LoadResult> {
  const path = `/v2/${repository}/manifests/${tag}`;
  const headers = { Accept: MANIFEST_ACCEPT, ...(await authHeaders(`${stowage.url}${path}`)) };
  const got = expectStatus(
    await call(`${stowage.url}${path}`, { method: "GET", headers, timeoutMs: 10_000 }),
    200,
    "GET manifest",
  );
  const digest = String(got.headers["docker-content-digest"]);
  await relay.seedTag(repository, tag, { digest, mediaType: String(got.headers["content-type"]), content: got.body });
  const check = await call(`${relay.url}${path}`, { method: "HEAD", headers, timeoutMs: 10_000 });
  if (check.status !== 200 || check.headers["docker-content-digest"] !== digest) {
    throw new Error(`relay HEAD answered ${check.status} ${String(check.headers["docker-content-digest"])}`);
  }
  return runLoad({
    url: `${relay.url}${path}`,
    method: "HEAD",
    headers,
    connections: options.connections,
    seconds: options.loadSeconds,
  });
}
