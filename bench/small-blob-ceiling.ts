import { randomBytes, randomUUID } from "node:crypto";
import { BlobServiceClient } from "@azure/storage-blob";
import { TableClient, TableTransaction } from "@azure/data-tables";
import { sha256 } from "./pattern.js";
import type { UploadMode } from "./small-image.js";
import { msSince, now } from "./timing.js";

/**
 * What Azurite alone takes for the storage calls the registry counts per small blob (the
 * `calls` phase), made straight from the SDKs in the same order and grouping, `concurrency`
 * blobs at a time, for `count` blobs plus a config as in the image push; the manifest PUT
 * is left out. docker: HEAD (a link read, 404), POST (none), PATCH (the session row insert
 * beside the count of open sessions, then Put Blob), PUT (the metadata write that freezes
 * the bytes, the index insert, the link + session-removal batch); post-put: HEAD, POST
 * (none), PUT (Put Blob, the index insert, the link). A container and a table of their own,
 * deleted afterwards. Seconds per pattern.
 */
export async function measureSmallBlobCeiling(
  connectionString: string,
  options: { count: number; size: number; concurrency: number },
): Promise<Partial<Record<UploadMode, number>>> {
  const id = randomBytes(4).toString("hex");
  const container = BlobServiceClient.fromConnectionString(connectionString).getContainerClient(`bench-calls-${id}`);
  const tables = {
    repositories: TableClient.fromConnectionString(connectionString, `benchcallsrepo${id}`, {
      allowInsecureConnection: true,
    }),
    blobs: TableClient.fromConnectionString(connectionString, `benchcallsblobs${id}`, {
      allowInsecureConnection: true,
    }),
  };
  await Promise.all([container.create(), tables.repositories.createTable(), tables.blobs.createTable()]);
  try {
    const seconds: Partial<Record<UploadMode, number>> = {};
    for (const mode of ["docker", "post-put"] as const) {
      const partitionKey = `bench|small-${mode}`;
      const blobs = Array.from({ length: options.count + 1 }, () => randomBytes(options.size));
      const pushOne = async (data: Buffer) => {
        const digest = sha256(data);
        const session = randomUUID();
        await tables.repositories.getEntity(partitionKey, `blob:${digest}`).then(
          () => undefined,
          (error: { statusCode?: number }) => {
            if (error.statusCode !== 404) throw error;
          },
        );
        const filter = `PartitionKey eq '${partitionKey}' and RowKey ge 'upload:' and RowKey lt 'upload;' and admittedAt ge 'x'`;
        const blob = container.getBlockBlobClient(`uploads/${session}`);
        const link = { partitionKey, rowKey: `blob:${digest}`, size: data.length };
        if (mode === "docker") {
          await Promise.all([
            tables.repositories.createEntity({
              partitionKey,
              rowKey: `upload:${session}`,
              offset: 0,
              startedAt: "x",
              admittedAt: "x",
            }),
            (async () => {
              for await (const page of tables.repositories
                .listEntities({ queryOptions: { filter, select: ["RowKey"] } })
                .byPage({ maxPageSize: 1000 }))
                return page.length;
            })(),
          ]);
          const put = await blob.upload(data, data.length);
          await blob.setMetadata({ digest }, { conditions: { ifMatch: put.etag } });
        } else await blob.upload(data, data.length);
        await tables.blobs.createEntity({ partitionKey: digest, rowKey: "", blobName: `uploads/${session}` });
        if (mode === "docker") {
          const tx = new TableTransaction();
          tx.createEntity(link);
          tx.deleteEntity(partitionKey, `upload:${session}`);
          await tables.repositories.submitTransaction(tx.actions);
        } else await tables.repositories.upsertEntity(link, "Replace");
      };
      const started = now();
      let next = 0;
      const worker = async () => {
        while (next < blobs.length) await pushOne(blobs[next++] as Buffer);
      };
      await Promise.all(Array.from({ length: options.concurrency }, worker));
      seconds[mode] = msSince(started) / 1000;
    }
    return seconds;
  } finally {
    await Promise.all([
      container.deleteIfExists().catch(() => undefined),
      tables.repositories.deleteTable().catch(() => undefined),
      tables.blobs.deleteTable().catch(() => undefined),
    ]);
  }
}
