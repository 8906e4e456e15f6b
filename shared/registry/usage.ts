import type { BlobStore } from "../storage/ports/blob-store.js";
import type { CollectionStore } from "../storage/ports/collection-store.js";
import type { MetadataStore } from "../storage/ports/metadata-store.js";
import { referencesOf } from "./manifest-references.js";

export interface RepositoryUsage {
  repository: string;
  manifests: number;
  tags: number;
  /** Manifests plus the distinct blobs they reference (a layer shared by two images counts once). */
  bytes: number;
}

export interface UsageReport {
  repositories: RepositoryUsage[];
  /** Registry-wide: a blob shared by several repositories counts once. */
  total: { repositories: number; manifests: number; tags: number; bytes: number };
}

/**
 * Storage used, per repository and registry-wide, from the manifests (what is referenced, not
 * garbage awaiting a sweep). Memory: one repository's blob digests at a time, plus one set of
 * digests for the registry-wide total.
 */
export async function measureUsage(
  store: CollectionStore,
  metadata: MetadataStore,
  blobs: BlobStore,
): Promise<UsageReport> {
  const report: UsageReport = { repositories: [], total: { repositories: 0, manifests: 0, tags: 0, bytes: 0 } };
  const everywhere = new Set<string>();
  let after: string | undefined;
  for (;;) {
    const page = await metadata.listRepositories(after, 1000);
    for (const repository of page.items) {
      const usage: RepositoryUsage = {
        repository,
        manifests: 0,
        tags: (await store.tagRows(repository)).length,
        bytes: 0,
      };
      const here = new Set<string>();
      for await (const rows of store.manifestPages(repository)) {
        for (const row of rows) {
          usage.manifests++;
          usage.bytes += row.size;
          report.total.bytes += row.size;
          for (const blob of (await referencesOf(row, blobs)).blobs) {
            if (!here.has(blob.digest)) {
              here.add(blob.digest);
              usage.bytes += blob.size;
            }
            if (!everywhere.has(blob.digest)) {
              everywhere.add(blob.digest);
              report.total.bytes += blob.size;
            }
          }
        }
      }
      report.repositories.push(usage);
      report.total.repositories++;
      report.total.manifests += usage.manifests;
      report.total.tags += usage.tags;
    }
    if (!page.more) return report;
    after = page.items.at(-1);
  }
}
