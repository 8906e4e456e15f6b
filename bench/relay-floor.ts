import { fileURLToPath } from "node:url";
import { ContainerSASPermissions, ContainerClient } from "@azure/storage-blob";
import { freePort } from "../shared/server/azurite.js";
import { startChild } from "./child-process.js";
import { waitUntilServing, type Target } from "./target.js";

const SERVER = fileURLToPath(new URL("./relay-server.js", import.meta.url));

/**
 * Starts the relay control (relay-server.ts) in a process of its own, like a registry, over a
 * container of its own reached through a SAS URL; the container goes when the bench's Azurite does.
 */
export async function startRelayFloor(connectionString: string, container: string): Promise<Target> {
  const client = new ContainerClient(connectionString, container);
  await client.createIfNotExists();
  const sas = await client.generateSasUrl({
    permissions: ContainerSASPermissions.parse("racwd"),
    expiresOn: new Date(Date.now() + 6 * 3600_000),
  });
  const port = await freePort("127.0.0.1");
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, PORT: String(port), RELAY_CONTAINER_URL: sas };
  const child = await startChild("relay", process.execPath, [SERVER], env);
  const url = `http://127.0.0.1:${port}`;
  try {
    const startMs = await waitUntilServing(child, url, "relay");
    return { name: "relay", url, pid: child.pid, startMs, child };
  } catch (error) {
    await child.stop();
    throw error;
  }
}
