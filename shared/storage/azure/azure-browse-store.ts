import type { TableClient } from "@azure/data-tables";
import type { BrowseStore, RepositoryStats, TagDetail } from "../ports/browse-store.js";
import type { Page } from "../ports/metadata-store.js";
import { decodeKey, encodeKey, odata, prefixEnd } from "./table-keys.js";
import type { Row } from "./table-rows.js";

/**
 * BrowseStore over the metadata tables (see azure-metadata-store.ts for their rows). A tag
 * row's Timestamp is when it was last written: its push time, at no extra cost per push.
 */
export class AzureBrowseStore implements BrowseStore {
  constructor(private readonly tables: { repositories: TableClient; catalog: TableClient }) {}

  async listRepositories(prefix: string, after: string | undefined, limit: number): Promise<Page<string>> {
    const start = encodeKey(prefix);
    const filters = [`PartitionKey eq ''`];
    const from =
      after !== undefined && after >= prefix ? `RowKey gt ${odata(encodeKey(after))}` : `RowKey ge ${odata(start)}`;
    filters.push(from);
    if (start) filters.push(`RowKey lt ${odata(prefixEnd(start))}`);
    const page = await this.page(this.tables.catalog, filters, ["RowKey"], limit);
    return { items: page.items.map((row) => decodeKey(row.rowKey as string)), more: page.more };
  }

  async listTagDetails(repository: string, after: string | undefined, limit: number): Promise<Page<TagDetail>> {
    const filters = [
      `PartitionKey eq ${odata(encodeKey(repository))}`,
      after !== undefined ? `RowKey gt ${odata(`tag:${after}`)}` : `RowKey ge 'tag:'`,
      `RowKey lt ${odata(prefixEnd("tag:"))}`,
    ];
    const select = ["RowKey", "Timestamp", "digest", "mediaType", "size", "content"];
    const page = await this.page(this.tables.repositories, filters, select, limit);
    const items = page.items.map((row) => {
      const detail: TagDetail = {
        tag: (row.rowKey as string).slice("tag:".length),
        digest: row.digest as string,
        mediaType: row.mediaType as string,
        size: Number(row.size),
        pushedAt: String(row.timestamp),
      };
      if (row.content instanceof Uint8Array) detail.content = row.content;
      return detail;
    });
    return { items, more: page.more };
  }

  async repositoryStats(repository: string, maxRows: number): Promise<RepositoryStats> {
    const partition = `PartitionKey eq ${odata(encodeKey(repository))}`;
    const range = (prefix: string) => [
      partition,
      `RowKey ge ${odata(prefix)}`,
      `RowKey lt ${odata(prefixEnd(prefix))}`,
    ];
    const [tags, blobs] = await Promise.all([
      this.page(this.tables.repositories, range("tag:"), ["RowKey", "Timestamp"], maxRows),
      this.page(this.tables.repositories, range("blob:"), ["RowKey", "size"], maxRows),
    ]);
    const stats: RepositoryStats = {
      tags: tags.items.length,
      complete: !tags.more && !blobs.more,
      blobBytes: blobs.items.reduce((sum, row) => sum + Number(row.size ?? 0), 0),
    };
    const last = tags.items
      .map((row) => String(row.timestamp))
      .sort()
      .pop();
    if (last) stats.lastPushAt = last;
    return stats;
  }

  /** Up to `limit` rows matching every filter, and whether more follow. */
  private async page(table: TableClient, filters: string[], select: string[], limit: number): Promise<Page<Row>> {
    const items: Row[] = [];
    const pages = table
      .listEntities<Row>({ queryOptions: { filter: filters.join(" and "), select } })
      .byPage({ maxPageSize: Math.min(limit + 1, 1000) });
    for await (const page of pages) {
      for (const row of page) {
        if (items.length === limit) return { items, more: true };
        items.push(row);
      }
    }
    return { items, more: false };
  }
}
