import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { before, describe, it } from "node:test";
import functions, { type Timer } from "@azure/functions";
import { useAzurite } from "../helpers/azurite.js";
import { sha256 } from "../helpers/content.js";
import { createTestRegistry, type TestRegistry } from "../helpers/registry.js";
import { createRegistryService } from "../../shared/create-registry.js";
import { createAzureStorage } from "../../shared/storage/azure/azure-storage.js";
import { pushBlob } from "./support.js";

const { InvocationContext } = functions;

/** Abandoned uploads are purged, with their bytes, while the registry keeps serving. */
describe("Garbage collection of abandoned uploads", () => {
  const azurite = useAzurite();
  let registry: TestRegistry;

  before(async () => {
    registry = await createTestRegistry(azurite().connectionString, { STOWAGE_UPLOAD_TTL_SECONDS: "1" });
  });

  async function abandonUpload(repository: string, data: string): Promise<string> {
    const start = await registry.fetch(`/v2/${repository}/blobs/uploads/`, { method: "POST" });
    const location = start.headers.get("location") as string;
    assert.equal((await registry.fetch(location, { method: "PATCH", body: data })).status, 202);
    return location.split("/").at(-1) as string;
  }

  it("lists abandoned uploads on a dry run, purges them for real, and leaves finished blobs alone", async () => {
    const service = await createRegistryService(registry.config, azurite().connectionString);
    const kept = await pushBlob(registry, "gc/app", "finished blob");
    const ids = [await abandonUpload("gc/app", "half an upload"), await abandonUpload("gc/other", "another")];
    await new Promise((resolve) => setTimeout(resolve, 1100));

    const listed = await service.uploads.purgeExpired(true);
    assert.deepEqual(listed.map((s) => s.id).sort(), [...ids].sort());
    assert.deepEqual((await service.uploads.purgeExpired(true)).length, 2, "a dry run deletes nothing");

    const storage = await createAzureStorage({
      connectionString: azurite().connectionString,
      container: registry.config.container,
      tablePrefix: registry.config.tablePrefix,
    });
    assert.ok((await storage.blobs.committedBlocks(`blobs/${ids[0]}`)).length > 0, "the abandoned bytes exist");
    const purged = await service.uploads.purgeExpired();
    assert.deepEqual(await storage.blobs.committedBlocks(`blobs/${ids[0]}`), [], "and are gone after the purge");
    assert.equal(purged.length, 2);
    assert.deepEqual(await service.uploads.purgeExpired(true), []);
    const gone = await registry.fetch(`/v2/gc/app/blobs/uploads/${ids[0]}`);
    assert.equal(gone.status, 404);
    assert.equal((await registry.fetch(`/v2/gc/app/blobs/${kept}`)).status, 200);
    assert.equal((await registry.fetch(`/v2/gc/app/blobs/${sha256("half an upload")}`)).status, 404);
  });

  it("runs from the Functions timer trigger", async () => {
    const id = randomBytes(4).toString("hex");
    Object.assign(process.env, {
      STOWAGE_STORAGE_CONNECTION_STRING: azurite().connectionString,
      STOWAGE_CONTAINER: registry.config.container,
      STOWAGE_TABLE_PREFIX: registry.config.tablePrefix,
      STOWAGE_UPLOAD_TTL_SECONDS: "1",
      STOWAGE_EVENT_QUEUE: `gc-${id}`,
    });
    const { purgeUploadsHandler } = await import("../../functions/garbage-collection.js");
    const upload = await abandonUpload("gc/timer", "left behind");
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const logs: unknown[][] = [];
    const context = new InvocationContext({ logHandler: (_level, ...args) => logs.push(args) });
    await purgeUploadsHandler({ isPastDue: false, scheduleStatus: undefined } as unknown as Timer, context);
    assert.equal((await registry.fetch(`/v2/gc/timer/blobs/uploads/${upload}`)).status, 404);
    assert.match(String(logs.flat().join(" ")), /abandoned upload\(s\) purged/);
  });
});
