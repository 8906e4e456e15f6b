import { randomUUID } from "node:crypto";
import { setTimeout as delay } from "node:timers/promises";
import type { TableClient } from "@azure/data-tables";
import type {
  CollectionStore,
  IndexedBlob,
  Lease,
  StoredBytes,
  StoredManifestRow,
  SweepEpoch,
  SweepState,
  TagRow,
} from "../ports/collection-store.js";
import type { BlobAccountSource } from "./azure-blob-store.js";
import { mapLimit } from "../../lib/map-limit.js";
import { acquireBlobLease } from "./blob-lease.js";
import { decodeKey, encodeKey, odata, prefixEnd } from "./table-keys.js";
import { deleteRow, getRow, isStatus, listRows, type Row } from "./table-rows.js";
import { upsertRow } from "./table-write.js";

/** Rows per page of the cross-partition scans (the most Table Storage returns at once). */
const PAGE = 1000;

/**
 * The sweep epoch row, in the repositories table under a PartitionKey no repository encodes
 * to (names are never empty) and a RowKey no scan's prefix matches.
 */
const EPOCH_ROW = { partitionKey: "", rowKey: "gc-sweep-epoch" } as const;

/**
 * CollectionStore over the same tables and container as the registry (see
 * azure-metadata-store.ts for the row layout). The blob index row gains two properties:
 * `touchedAt` (last push that referenced it) and `gcState` ("", "marked", "deleting").
 */
export class AzureCollectionStore implements CollectionStore {
  constructor(
    private readonly tables: { repositories: TableClient; blobs: TableClient; catalog: TableClient },
    private readonly blobAccount: BlobAccountSource,
  ) {}

  async claimBlob(digest: string, touchAt?: string): Promise<boolean> {
    // Bounded: each retry means another writer changed the row in between (a sweep or a push).
    for (let attempt = 0; attempt < 20; attempt++) {
      const row = await getRow(this.tables.blobs, digest, "");
      if (!row || row.gcState === "deleting") return false;
      if (row.gcState !== "marked" && touchAt === undefined) return true;
      const entity = { partitionKey: digest, rowKey: "", gcState: "", ...(touchAt ? { touchedAt: touchAt } : {}) };
      try {
        await this.tables.blobs.updateEntity(entity, "Merge", { etag: row.etag as string });
        return true;
      } catch (error) {
        if (!isStatus(error, 412) && !isStatus(error, 404)) throw error;
      }
    }
    throw new Error(`blob index row ${digest} keeps changing`);
  }

  async sweepEpoch(): Promise<SweepEpoch> {
    const row = await getRow(this.tables.repositories, EPOCH_ROW.partitionKey, EPOCH_ROW.rowKey);
    return { epoch: Number(row?.epoch ?? 0), marking: row?.marking === true, removals: String(row?.removals ?? "") };
  }

  async beginMarking(): Promise<string> {
    // Bounded: each retry means another writer changed the row at the same time (a sweep
    // beginning after a lost lease, a catalog removal)
    for (let attempt = 0; attempt < 20; attempt++) {
      const row = await getRow(this.tables.repositories, EPOCH_ROW.partitionKey, EPOCH_ROW.rowKey);
      const epoch = Number(row?.epoch ?? 0) + 1;
      const entity = { ...EPOCH_ROW, epoch, marking: true };
      try {
        // merged: `removals` stays as it is
        if (row) await this.tables.repositories.updateEntity(entity, "Merge", { etag: row.etag as string });
        else await this.tables.repositories.createEntity(entity);
        return String(epoch);
      } catch (error) {
        if (!isStatus(error, 412) && !isStatus(error, 409) && !isStatus(error, 404)) throw error;
      }
    }
    throw new Error("the sweep epoch row keeps changing");
  }

  async endMarking(token: string): Promise<void> {
    // Bounded, as beginMarking: a catalog removal changes the row, not the epoch. Removals
    // can come in bursts (a script deleting repositories): each retry waits a little longer,
    // since a sweep that fails here leaves pushes claiming every blob until the next one.
    for (let attempt = 0; attempt < 20; attempt++) {
      if (attempt > 0) await delay(attempt * 10);
      const row = await getRow(this.tables.repositories, EPOCH_ROW.partitionKey, EPOCH_ROW.rowKey);
      // another sweep began since: it clears the flag when it is done
      if (!row || String(row.epoch) !== token) return;
      try {
        await this.tables.repositories.updateEntity({ ...EPOCH_ROW, marking: false }, "Merge", {
          etag: row.etag as string,
        });
        return;
      } catch (error) {
        if (!isStatus(error, 412) && !isStatus(error, 404)) throw error;
      }
    }
    throw new Error("the sweep epoch row keeps changing");
  }

  async *blobIndexPages(pageSize: number): AsyncIterable<IndexedBlob[]> {
    const pages = this.tables.blobs.listEntities<Row>().byPage({ maxPageSize: Math.min(pageSize, PAGE) });
    for await (const page of pages) {
      yield page.map((row) => ({
        digest: row.partitionKey as string,
        blobName: row.blobName as string,
        size: Number(row.size),
        state: ((row.gcState as string | undefined) ?? "") as SweepState,
        touchedAt: latest(row.createdAt, row.touchedAt),
        etag: row.etag as string,
      }));
    }
  }

  async setBlobState(digest: string, state: SweepState, etag: string): Promise<string | undefined> {
    try {
      const result = await this.tables.blobs.updateEntity(
        { partitionKey: digest, rowKey: "", gcState: state },
        "Merge",
        { etag },
      );
      return result.etag;
    } catch (error) {
      if (isStatus(error, 412) || isStatus(error, 404)) return undefined;
      throw error;
    }
  }

  async deleteBlobRow(digest: string, etag: string): Promise<void> {
    try {
      await this.tables.blobs.deleteEntity(digest, "", { etag });
    } catch (error) {
      if (!isStatus(error, 404) && !isStatus(error, 412)) throw error;
    }
  }

  async *manifestPages(repository?: string): AsyncIterable<StoredManifestRow[]> {
    for await (const page of this.rowPages("manifest:", repository)) {
      yield page.map((row) => {
        const record: StoredManifestRow = {
          repository: decodeKey(row.partitionKey as string),
          digest: (row.rowKey as string).slice("manifest:".length),
          mediaType: row.mediaType as string,
          size: Number(row.size),
          createdAt: row.createdAt as string,
        };
        if (row.content instanceof Uint8Array) record.content = row.content;
        if (typeof row.blobName === "string" && row.blobName) record.blobName = row.blobName;
        if (typeof row.subject === "string" && row.subject) record.subject = row.subject;
        return record;
      });
    }
  }

  async tagRows(repository: string): Promise<TagRow[]> {
    const rows: TagRow[] = [];
    for await (const page of this.rowPages("tag:", repository)) {
      for (const row of page)
        rows.push({
          repository,
          tag: (row.rowKey as string).slice("tag:".length),
          digest: row.digest as string,
          updatedAt: (row.timestamp as string | undefined) ?? "",
        });
    }
    return rows;
  }

  async *linkPages(): AsyncIterable<{ repository: string; digest: string }[]> {
    for await (const page of this.rowPages("blob:", undefined, ["PartitionKey", "RowKey"])) {
      yield page.map((row) => ({
        repository: decodeKey(row.partitionKey as string),
        digest: (row.rowKey as string).slice("blob:".length),
      }));
    }
  }

  async deleteLink(repository: string, digest: string): Promise<void> {
    await deleteRow(this.tables.repositories, encodeKey(repository), `blob:${digest}`);
  }

  async *bytesPages(prefix: string, before: string): AsyncIterable<StoredBytes[]> {
    const { container } = await this.blobAccount();
    try {
      for await (const page of container.listBlobsFlat({ prefix }).byPage({ maxPageSize: PAGE })) {
        yield page.segment.blobItems
          .filter((item) => item.properties.lastModified.toISOString() < before)
          .map((item) => ({
            blobName: item.name,
            lastModified: item.properties.lastModified.toISOString(),
            size: item.properties.contentLength ?? 0,
          }));
      }
    } catch (error) {
      // ContainerNotFound: nothing written yet (the first blob write makes the container)
      if (!isStatus(error, 404)) throw error;
    }
  }

  async deleteBytes(blobName: string): Promise<void> {
    try {
      await (await this.blobAccount()).container.getBlobClient(blobName).deleteIfExists();
    } catch (error) {
      if (!isStatus(error, 404)) throw error;
    }
  }

  async isRepositoryEmpty(repository: string): Promise<boolean> {
    const partition = encodeKey(repository);
    for (const prefix of ["manifest:", "tag:"]) {
      const range = `RowKey ge ${odata(prefix)} and RowKey lt ${odata(prefixEnd(prefix))}`;
      const filter = `PartitionKey eq ${odata(partition)} and ${range}`;
      const pages = this.tables.repositories
        .listEntities<Row>({ queryOptions: { filter, select: ["RowKey"] } })
        .byPage({ maxPageSize: 1 });
      for await (const page of pages) if (page.length > 0) return false;
    }
    return true;
  }

  async removeFromCatalog(repository: string): Promise<void> {
    // after the row is gone, so that an instance which wrote the row before the removal, and
    // reads the value after it, sees a change (catalog-memo.ts); and before, so that it still
    // sees one if the removal fails half-way
    await this.changeRemovals();
    await deleteRow(this.tables.catalog, "", encodeKey(repository));
    await this.changeRemovals();
  }

  async changeRemovals(): Promise<void> {
    await upsertRow(this.tables.repositories, { ...EPOCH_ROW, removals: randomUUID() }, "Merge");
  }

  async deleteRepositoryRows(repository: string): Promise<number> {
    const partition = encodeKey(repository);
    let deleted = 0;
    // again while rows remain (a push may land meanwhile), a bounded number of times
    for (let round = 0; round < 10; round++) {
      // upload sessions and cancel markers stay: they expire with their bytes (UploadService.purgeExpired)
      const rows = (await listRows(this.tables.repositories, partition)).filter(
        (row) => !/^(upload|cancel):/.test(row.rowKey as string),
      );
      if (rows.length === 0) break;
      const results = await mapLimit(rows, 16, (row) =>
        deleteRow(this.tables.repositories, partition, row.rowKey as string),
      );
      deleted += results.filter(Boolean).length;
    }
    return deleted;
  }

  async acquireLease(name: string): Promise<Lease | undefined> {
    return acquireBlobLease((await this.blobAccount()).container.getBlockBlobClient(`leases/${name}`));
  }

  /** Rows whose RowKey starts with `prefix`, in one repository or across all of them. */
  private async *rowPages(prefix: string, repository?: string, select?: string[]): AsyncIterable<Row[]> {
    const clauses = [`RowKey ge ${odata(prefix)}`, `RowKey lt ${odata(prefixEnd(prefix))}`];
    if (repository !== undefined) clauses.unshift(`PartitionKey eq ${odata(encodeKey(repository))}`);
    const queryOptions = { filter: clauses.join(" and "), ...(select ? { select } : {}) };
    for await (const page of this.tables.repositories.listEntities<Row>({ queryOptions }).byPage({ maxPageSize: PAGE }))
      yield page;
  }
}

/** The later of two ISO times (rows written before `touchedAt` existed have only `createdAt`). */
function latest(created: unknown, touched: unknown): string {
  const a = typeof created === "string" ? created : "";
  const b = typeof touched === "string" ? touched : "";
  return a > b ? a : b;
}
