import type { BlobStore } from "../storage/ports/blob-store.js";
import type { CollectionStore } from "../storage/ports/collection-store.js";
import type { MetadataStore } from "../storage/ports/metadata-store.js";
import { BlobSweeper, type SweepReport } from "./blob-sweeper.js";
import { RegistryError } from "./errors.js";
import { collectOrphanedBytes, type OrphanedBytesReport } from "./orphaned-bytes.js";
import { Retention, type RetentionReport, type RetentionRule } from "./retention.js";
import type { UploadService } from "./upload-service.js";
import { measureUsage, type UsageReport } from "./usage.js";

export interface LifecycleOptions {
  /** Default grace period of the blob sweep. */
  graceMs: number;
  /** Sweep candidates handled at once (bounds memory). */
  batchSize: number;
  /** Upload sessions complete within this of their start: older upload bytes nobody owns are garbage. */
  uploadTtlMs: number;
  retention: RetentionRule[];
  now: () => number;
  /** Told of each manifest (or whole repository) deleted, so this instance's caches drop it at once. */
  forget?: (repository: string, digest?: string) => void;
}

export interface CollectOptions {
  dryRun?: boolean;
  /** Overrides the configured grace period (0: an operator who stopped all pushes, tests). */
  graceMs?: number;
}

/** What one garbage collection did (or, on a dry run, would do). */
export interface GcReport {
  dryRun: boolean;
  graceSeconds: number;
  startedAt: string;
  durationMs: number;
  /** Set when another process held the lease and this run did nothing. */
  skipped?: string;
  uploads: { count: number; bytes: number };
  retention: RetentionReport;
  sweep: SweepReport;
  /** Upload bytes no index row and no session owns (orphaned-bytes.ts). */
  orphanedBytes: OrphanedBytesReport;
  /** Repositories left without manifests and tags, taken out of the catalog. */
  repositories: number;
}

/**
 * Storage lifecycle: garbage collection (abandoned uploads, retention, the blob sweep, orphaned
 * upload bytes, empty repositories), repository deletion and usage. One run at a time per
 * registry (a lease).
 */
export class LifecycleService {
  constructor(
    private readonly storage: { blobs: BlobStore; metadata: MetadataStore; collection: CollectionStore },
    private readonly uploads: UploadService,
    private readonly options: LifecycleOptions,
  ) {}

  async collectGarbage(run: CollectOptions = {}): Promise<GcReport> {
    const dryRun = run.dryRun ?? false;
    const graceMs = run.graceMs ?? this.options.graceMs;
    const started = this.options.now();
    const report: GcReport = {
      dryRun,
      graceSeconds: graceMs / 1000,
      startedAt: new Date(started).toISOString(),
      durationMs: 0,
      uploads: { count: 0, bytes: 0 },
      retention: { tags: 0, manifests: 0 },
      sweep: { scanned: 0, manifestsRead: 0, blobs: { count: 0, bytes: 0 }, links: 0, referenced: 0, claimed: 0 },
      orphanedBytes: { count: 0, bytes: 0, blobNames: [] },
      repositories: 0,
    };
    const { collection, metadata, blobs } = this.storage;
    const lease = dryRun ? undefined : await collection.acquireLease("garbage-collection");
    if (!dryRun && !lease) return { ...report, skipped: "another process is collecting garbage" };
    try {
      const expired = await this.uploads.purgeExpired(dryRun);
      report.uploads = { count: expired.length, bytes: expired.reduce((sum, s) => sum + s.offset, 0) };
      report.retention = await new Retention(collection, metadata, blobs).apply(this.options.retention, {
        dryRun,
        now: this.options.now,
        ...(this.options.forget ? { forget: this.options.forget } : {}),
      });
      report.sweep = await new BlobSweeper(collection, blobs).sweep({
        graceMs,
        dryRun,
        batchSize: this.options.batchSize,
        now: this.options.now,
      });
      const before = new Date(this.options.now() - this.options.uploadTtlMs - graceMs).toISOString();
      const sessions = await metadata.listUploadsStartedBefore(before);
      report.orphanedBytes = await collectOrphanedBytes(collection, {
        before,
        sessions: new Set(sessions.map((session) => session.id)),
        dryRun,
      });
      report.repositories = await this.dropEmptyRepositories(dryRun);
    } finally {
      await lease?.release();
    }
    report.durationMs = this.options.now() - started;
    return report;
  }

  /**
   * Removes a repository: tags, manifests, referrers and links (its bytes go with the next
   * sweep, its unfinished uploads when they expire). NAME_UNKNOWN if it is not in the catalog.
   */
  async deleteRepository(repository: string): Promise<{ rows: number }> {
    if (!(await this.storage.metadata.hasRepository(repository)))
      throw new RegistryError("NAME_UNKNOWN", "repository name not known to registry", { name: repository });
    const rows = await this.storage.collection.deleteRepositoryRows(repository);
    await this.storage.collection.removeFromCatalog(repository);
    this.options.forget?.(repository);
    return { rows };
  }

  usage(): Promise<UsageReport> {
    return measureUsage(this.storage.collection, this.storage.metadata, this.storage.blobs);
  }

  /**
   * Takes repositories without manifests and tags out of the catalog. A push that lands at
   * the same time is caught by checking again after the removal (a push writes its manifest
   * before its catalog row, so one of the two checks sees it): the row is then put back.
   */
  private async dropEmptyRepositories(dryRun: boolean): Promise<number> {
    const { metadata, collection } = this.storage;
    let dropped = 0;
    let after: string | undefined;
    for (;;) {
      const page = await metadata.listRepositories(after, 1000);
      for (const repository of page.items) {
        if (!(await collection.isRepositoryEmpty(repository))) continue;
        dropped++;
        if (dryRun) continue;
        await collection.removeFromCatalog(repository);
        this.options.forget?.(repository);
        if (!(await collection.isRepositoryEmpty(repository))) {
          await metadata.addRepository(repository);
          dropped--;
        }
      }
      if (!page.more) return dropped;
      after = page.items.at(-1);
    }
  }
}
