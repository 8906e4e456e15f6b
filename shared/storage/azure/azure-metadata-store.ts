import { TableTransaction, type TableClient, type TableEntityResult, type TransactionAction } from "@azure/data-tables";
import { ConcurrentUpdateError } from "../ports/errors.js";
import type {
  BlobRecord,
  ManifestRecord,
  MetadataStore,
  Page,
  ReferrerRecord,
  TagRecord,
  UploadSession,
} from "../ports/metadata-store.js";
import { decodeKey, encodeKey, odata, prefixEnd } from "./table-keys.js";
import { deleteRow, getRow, isStatus, listRows, type Row } from "./table-rows.js";
import { queryPage, type QueryContinuation } from "./table-query.js";
import { insertRow, submitBatch, upsertRow } from "./table-write.js";

/** The three tables the metadata lives in. */
export interface MetadataTables {
  /** One partition per repository: rows `blob:<digest>`, `manifest:<digest>`, `tag:<tag>`, `upload:<id>`, `cancel:<id>`. */
  repositories: TableClient;
  /** The registry-wide blob index: PartitionKey = digest. */
  blobs: TableClient;
  /** One row per repository (PartitionKey ""), for `_catalog`. */
  catalog: TableClient;
}

/** What a tag read without its manifest asks for. */
const TAG_STAT = ["digest", "mediaType", "size"] as const;

/**
 * MetadataStore over Azure Table Storage. Keeping everything about a repository in one
 * partition lets a manifest and its tag, or a finished upload's link and the removal of its
 * session, commit in one entity-group transaction.
 */
export class AzureMetadataStore implements MetadataStore {
  constructor(private readonly tables: MetadataTables) {}

  async getBlob(digest: string): Promise<BlobRecord | undefined> {
    const row = await getRow(this.tables.blobs, digest, "");
    return row && toBlobRecord(digest, row);
  }

  async insertBlob(record: BlobRecord): Promise<BlobRecord> {
    // a few times: garbage collection may delete the existing row between the two calls
    for (let attempt = 1; ; attempt++) {
      try {
        await insertRow(this.tables.blobs, {
          partitionKey: record.digest,
          rowKey: "",
          blobName: record.blobName,
          size: BigInt(record.size),
          createdAt: new Date().toISOString(),
        });
        return record;
      } catch (error) {
        if (!isStatus(error, 409)) throw error;
        const existing = await this.getBlob(record.digest);
        if (existing) return existing;
        if (attempt >= 3) throw error;
      }
    }
  }

  async getLinkedBlob(repository: string, digest: string): Promise<BlobRecord | undefined> {
    const row = await getRow(this.tables.repositories, encodeKey(repository), `blob:${digest}`);
    return row && toBlobRecord(digest, row);
  }

  async linkBlob(repository: string, record: BlobRecord): Promise<void> {
    await upsertRow(this.tables.repositories, linkEntity(repository, record), "Replace");
  }

  async unlinkBlob(repository: string, digest: string): Promise<boolean> {
    return this.deleteIfExists(encodeKey(repository), `blob:${digest}`);
  }

  async createUpload(session: UploadSession, admittedAt: string): Promise<boolean> {
    try {
      await insertRow(this.tables.repositories, { ...uploadEntity(session), admittedAt });
      return true;
    } catch (error) {
      if (isStatus(error, 409)) return false;
      throw error;
    }
  }

  async getUpload(repository: string, id: string): Promise<UploadSession | undefined> {
    const row = await getRow(this.tables.repositories, encodeKey(repository), `upload:${id}`);
    return row && toSession(repository, id, row);
  }

  async cancelUpload(session: UploadSession): Promise<void> {
    const partitionKey = encodeKey(session.repository);
    // its own RowKey: the completing transaction's delete of `upload:` then fails, and the
    // count of open uploads never reads it
    const marker = { partitionKey, rowKey: `cancel:${session.id}`, startedAt: session.startedAt };
    const tx = new TableTransaction();
    tx.upsertEntity(marker, "Replace");
    tx.deleteEntity(partitionKey, `upload:${session.id}`);
    try {
      await submitBatch(this.tables.repositories, tx.actions);
    } catch (error) {
      if (!isStatus(error, 404)) throw error;
      await upsertRow(this.tables.repositories, marker, "Replace"); // never recorded: the marker alone
    }
  }

  async countUploads(repository: string, except: string, since: string, atMost: number): Promise<number> {
    const filter =
      `PartitionKey eq ${odata(encodeKey(repository))} and RowKey ge 'upload:' and RowKey lt 'upload;'` +
      ` and RowKey ne ${odata(`upload:${except}`)} and admittedAt ge ${odata(since)}`;
    let count = 0;
    let next: QueryContinuation | undefined;
    // keys only, and no further than `atMost`: one round trip per 1,000 sessions at most
    do {
      const top = Math.min(atMost, 1000);
      const page = await queryPage(this.tables.repositories, { filter, select: ["RowKey"], top, continuation: next });
      count += page.rows.length;
      next = page.next;
    } while (next && count < atMost);
    return Math.min(count, atMost);
  }

  async listUploadsStartedBefore(before: string): Promise<UploadSession[]> {
    // the one cross-partition query: run by garbage collection, never on a request
    const rows = "(RowKey ge 'upload:' and RowKey lt 'upload;') or (RowKey ge 'cancel:' and RowKey lt 'cancel;')";
    const filter = `(${rows}) and startedAt lt ${odata(before)}`;
    const sessions: UploadSession[] = [];
    for await (const row of this.tables.repositories.listEntities<Row>({ queryOptions: { filter } })) {
      const [kind, id] = (row.rowKey as string).split(":") as [string, string];
      const repository = decodeKey(row.partitionKey as string);
      sessions.push(
        kind === "cancel"
          ? { repository, id, offset: 0, blobEtag: null, startedAt: row.startedAt as string, cancelled: true }
          : toSession(repository, id, row),
      );
    }
    return sessions;
  }

  async deleteUpload({ repository, id, cancelled }: UploadSession): Promise<void> {
    try {
      await this.tables.repositories.deleteEntity(encodeKey(repository), `${cancelled ? "cancel" : "upload"}:${id}`);
    } catch (error) {
      if (!isStatus(error, 404)) throw error;
    }
  }

  async completeUpload(repository: string, id: string, record: BlobRecord): Promise<void> {
    const tx = new TableTransaction();
    tx.upsertEntity(linkEntity(repository, record), "Replace");
    tx.deleteEntity(encodeKey(repository), `upload:${id}`);
    try {
      await submitBatch(this.tables.repositories, tx.actions);
    } catch (error) {
      // the session vanished under us (a concurrent completion or cancel): nothing to finish
      if (isStatus(error, 404)) throw new ConcurrentUpdateError(`upload ${id}`);
      throw error;
    }
  }

  async getManifest(repository: string, digest: string): Promise<ManifestRecord | undefined> {
    const row = await getRow(this.tables.repositories, encodeKey(repository), `manifest:${digest}`);
    if (!row) return undefined;
    const record: ManifestRecord = {
      digest,
      mediaType: row.mediaType as string,
      size: Number(row.size),
      createdAt: row.createdAt as string,
    };
    if (row.content instanceof Uint8Array) record.content = row.content;
    for (const key of ["blobName", "subject", "artifactType"] as const) {
      if (typeof row[key] === "string" && row[key]) record[key] = row[key] as string;
    }
    return record;
  }

  async putManifest(repository: string, manifest: ManifestRecord, tag?: string): Promise<void> {
    await submitBatch(this.tables.repositories, manifestActions(repository, manifest, tag, "upsert"));
  }

  async putManifestIfStored(repository: string, manifest: ManifestRecord, tag?: string): Promise<boolean> {
    try {
      // the manifest row as an update (If-Match: *): the batch fails, whole, if it is not there
      await submitBatch(this.tables.repositories, manifestActions(repository, manifest, tag, "update"));
      return true;
    } catch (error) {
      if (isStatus(error, 404)) return false;
      throw error;
    }
  }

  async deleteManifest(repository: string, digest: string): Promise<boolean> {
    const partitionKey = encodeKey(repository);
    // One transaction removes the manifest, its tags and its referrers entry. A row removed
    // concurrently fails it (404): read again and retry. (Transactional deletes take no etag,
    // so a tag pushed onto this digest between the read and the delete may be left dangling;
    // it then resolves to MANIFEST_UNKNOWN until pushed again.)
    for (let attempt = 1; ; attempt++) {
      const manifest = await getRow(this.tables.repositories, partitionKey, `manifest:${digest}`);
      if (!manifest) return false;
      const tags = await this.rows(partitionKey, "tag:", `digest eq ${odata(digest)}`);
      const keys = [`manifest:${digest}`, ...tags.map((tag) => tag.rowKey as string)];
      if (typeof manifest.subject === "string" && manifest.subject) keys.push(referrerKey(manifest.subject, digest));
      try {
        await this.deleteRows(partitionKey, keys);
        return true;
      } catch (error) {
        if (attempt >= 3 || !isStatus(error, 404)) throw error;
      }
    }
  }

  async deleteTag(repository: string, tag: string): Promise<boolean> {
    return this.deleteIfExists(encodeKey(repository), `tag:${tag}`);
  }

  async listReferrers(repository: string, subject: string): Promise<ReferrerRecord[]> {
    const rows = await this.rows(encodeKey(repository), referrerKey(subject, ""));
    return rows.map((row) => {
      const record: ReferrerRecord = {
        digest: row.digest as string,
        mediaType: row.mediaType as string,
        size: Number(row.size),
      };
      if (typeof row.artifactType === "string") record.artifactType = row.artifactType;
      if (typeof row.annotations === "string")
        record.annotations = JSON.parse(row.annotations) as Record<string, string>;
      return record;
    });
  }

  async getTag(repository: string, tag: string, options = { content: true }): Promise<TagRecord | undefined> {
    const select = options.content ? undefined : TAG_STAT;
    const row = await getRow(this.tables.repositories, encodeKey(repository), `tag:${tag}`, select);
    if (!row) return undefined;
    const record: TagRecord = {
      tag,
      digest: row.digest as string,
      mediaType: row.mediaType as string,
      size: Number(row.size),
    };
    if (row.content instanceof Uint8Array) record.content = row.content;
    return record;
  }

  async listTags(repository: string, after: string | undefined, limit: number): Promise<Page<string>> {
    const page = await listRowKeys(this.tables.repositories, encodeKey(repository), "tag:", after, limit);
    return { items: page.items.map((key) => key.slice("tag:".length)), more: page.more };
  }

  async addRepository(repository: string): Promise<void> {
    await upsertRow(this.tables.catalog, { partitionKey: "", rowKey: encodeKey(repository) }, "Merge");
  }

  /** Rows of one repository partition whose RowKey starts with `prefix`, optionally filtered further. */
  private rows(partitionKey: string, prefix: string, filter?: string): Promise<TableEntityResult<Row>[]> {
    const range = `RowKey ge ${odata(prefix)} and RowKey lt ${odata(prefixEnd(prefix))}`;
    return listRows(this.tables.repositories, partitionKey, filter ? `${range} and ${filter}` : range);
  }

  /** Deletes rows of one partition atomically (an entity-group transaction holds 100 operations). */
  private async deleteRows(partitionKey: string, rowKeys: string[]): Promise<void> {
    for (let i = 0; i < rowKeys.length; i += 100) {
      const tx = new TableTransaction();
      for (const rowKey of rowKeys.slice(i, i + 100)) tx.deleteEntity(partitionKey, rowKey);
      await submitBatch(this.tables.repositories, tx.actions);
    }
  }

  private deleteIfExists(partitionKey: string, rowKey: string): Promise<boolean> {
    return deleteRow(this.tables.repositories, partitionKey, rowKey);
  }

  async hasRepository(repository: string): Promise<boolean> {
    return (await getRow(this.tables.catalog, "", encodeKey(repository))) !== undefined;
  }

  async listRepositories(after: string | undefined, limit: number): Promise<Page<string>> {
    const page = await listRowKeys(this.tables.catalog, "", "", after && encodeKey(after), limit);
    return { items: page.items.map(decodeKey), more: page.more };
  }
}

/** RowKeys of one partition that start with `prefix` and sort after `after`, in order. */
async function listRowKeys(
  table: TableClient,
  partitionKey: string,
  prefix: string,
  after: string | undefined,
  limit: number,
): Promise<Page<string>> {
  const filters = [`PartitionKey eq ${odata(partitionKey)}`];
  filters.push(after !== undefined ? `RowKey gt ${odata(prefix + after)}` : `RowKey ge ${odata(prefix)}`);
  if (prefix) filters.push(`RowKey lt ${odata(prefixEnd(prefix))}`);
  const items: string[] = [];
  const pages = table
    .listEntities<Row>({ queryOptions: { filter: filters.join(" and "), select: ["RowKey"] } })
    .byPage({ maxPageSize: Math.min(limit + 1, 1000) });
  for await (const page of pages) {
    for (const row of page) {
      if (items.length === limit) return { items, more: true };
      items.push(row.rowKey as string);
    }
  }
  return { items, more: false };
}

/**
 * The rows of a manifest PUT: the manifest (upserted, or updated: only if it exists), its tag,
 * its referrers entry.
 */
function manifestActions(
  repository: string,
  manifest: ManifestRecord,
  tag: string | undefined,
  write: "upsert" | "update",
): TransactionAction[] {
  const partitionKey = encodeKey(repository);
  const { annotations, ...stored } = manifest;
  const { digest, mediaType, size, subject, artifactType } = manifest;
  const tx = new TableTransaction();
  const rowKey = `manifest:${digest}`;
  // An update is a re-tag of the very bytes stored under this digest: everything in the row but
  // createdAt (a re-tag counts as a push) is already there, so it is merged alone, and the
  // batch does not carry the manifest twice (the tag row holds it too).
  if (write === "update") tx.updateEntity({ partitionKey, rowKey, createdAt: manifest.createdAt }, "Merge");
  else tx.upsertEntity({ partitionKey, rowKey, ...defined(stored), size: BigInt(size) }, "Replace");
  if (tag !== undefined) {
    const fields = defined({ digest, mediaType, size: BigInt(size), content: manifest.content });
    tx.upsertEntity({ partitionKey, rowKey: `tag:${tag}`, ...fields }, "Replace");
  }
  if (subject) {
    const referrer = {
      digest,
      mediaType,
      size: BigInt(size),
      artifactType,
      annotations: annotations && JSON.stringify(annotations),
    };
    tx.upsertEntity({ partitionKey, rowKey: referrerKey(subject, digest), ...defined(referrer) }, "Replace");
  }
  return tx.actions;
}

/** Referrers sort under their subject: one range query lists them. */
function referrerKey(subject: string, digest: string): string {
  return `ref:${subject}:${digest}`;
}

function toSession(repository: string, id: string, row: Row): UploadSession {
  const session: UploadSession = {
    repository,
    id,
    offset: Number(row.offset),
    blobEtag: (row.blobEtag as string | undefined) || null,
    startedAt: row.startedAt as string,
  };
  if (row.hashState) session.hashState = row.hashState as string;
  if (row.digestSoFar) session.digestSoFar = row.digestSoFar as string;
  return session;
}

function toBlobRecord(digest: string, row: Row): BlobRecord {
  return { digest, blobName: row.blobName as string, size: Number(row.size) };
}

// Sizes and offsets are written as Edm.Int64 (BigInt in the SDK): layers can exceed Int32.
function linkEntity(repository: string, record: BlobRecord) {
  return {
    partitionKey: encodeKey(repository),
    rowKey: `blob:${record.digest}`,
    blobName: record.blobName,
    size: BigInt(record.size),
  };
}

function uploadEntity(session: UploadSession) {
  const { repository, id, ...rest } = session;
  return {
    partitionKey: encodeKey(repository),
    rowKey: `upload:${id}`,
    ...defined(rest),
    offset: BigInt(rest.offset),
    blobEtag: rest.blobEtag ?? "",
  };
}

/** Tables reject undefined property values: drop them. */
function defined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
