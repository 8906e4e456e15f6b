import { matchesPattern } from "../lib/repository-pattern.js";
import type { BlobStore } from "../storage/ports/blob-store.js";
import type { CollectionStore } from "../storage/ports/collection-store.js";
import type { MetadataStore } from "../storage/ports/metadata-store.js";
import { referencesOf } from "./manifest-references.js";

/** One retention rule; the first rule whose pattern matches a repository applies to it. */
export interface RetentionRule {
  /** Repository pattern (`*` matches any run of characters, `/` included). */
  repositories: string;
  /** Delete manifests without a tag created more than this many days ago. */
  untaggedDays?: number;
  /** Keep only the most recently pushed this many tags that match `tagPattern`. */
  keepTags?: number;
  /** Which tags `keepTags` counts (default `*`: all). */
  tagPattern?: string;
}

export interface RetentionReport {
  tags: number;
  manifests: number;
}

interface Node {
  digest: string;
  createdAt: string;
  subject?: string;
  children: string[];
}

export interface RetentionRun {
  dryRun: boolean;
  now: () => number;
  /** Told of each manifest deleted (this instance's manifest cache drops it). */
  forget?: (repository: string, digest: string) => void;
}

/**
 * Retention: applies the rules to each repository, a repository at a time (memory: one
 * repository's manifests). Tags beyond `keepTags` are removed first; then manifests are kept
 * when tagged, younger than `untaggedDays`, a child of a kept index, a referrer of a kept
 * subject, or the subject of a kept referrer. Referrers go with their subject. Everything
 * else in a repository with an `untaggedDays` rule is deleted (its blobs go with the sweep).
 */
export class Retention {
  constructor(
    private readonly store: CollectionStore,
    private readonly metadata: MetadataStore,
    private readonly blobs: BlobStore,
  ) {}

  async apply(rules: RetentionRule[], options: RetentionRun): Promise<RetentionReport> {
    const report: RetentionReport = { tags: 0, manifests: 0 };
    if (rules.length === 0) return report;
    let after: string | undefined;
    for (;;) {
      const page = await this.metadata.listRepositories(after, 1000);
      for (const repository of page.items) {
        const rule = rules.find((r) => matchesPattern(r.repositories, repository));
        if (rule) await this.applyTo(repository, rule, options, report);
      }
      if (!page.more) return report;
      after = page.items.at(-1);
    }
  }

  private async applyTo(
    repository: string,
    rule: RetentionRule,
    options: RetentionRun,
    report: RetentionReport,
  ): Promise<void> {
    let tags = await this.store.tagRows(repository);
    if (rule.keepTags !== undefined) {
      const pattern = rule.tagPattern ?? "*";
      const counted = tags
        .filter((t) => matchesPattern(pattern, t.tag))
        .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt) || b.tag.localeCompare(a.tag));
      const dropped = new Set(counted.slice(rule.keepTags).map((t) => t.tag));
      for (const tag of dropped) if (options.dryRun || (await this.metadata.deleteTag(repository, tag))) report.tags++;
      tags = tags.filter((t) => !dropped.has(t.tag));
    }
    if (rule.untaggedDays === undefined) return;

    const nodes = new Map<string, Node>();
    for await (const page of this.store.manifestPages(repository)) {
      for (const row of page) {
        const { manifests } = await referencesOf(row, this.blobs);
        const node: Node = { digest: row.digest, createdAt: row.createdAt, children: manifests };
        if (row.subject) node.subject = row.subject;
        nodes.set(row.digest, node);
      }
    }
    const keep = keptManifests(
      nodes,
      new Set(tags.map((t) => t.digest)),
      options.now() - rule.untaggedDays * 86_400_000,
    );
    for (const node of nodes.values()) {
      if (keep.has(node.digest)) continue;
      if (!options.dryRun) {
        // pushed again since it was read (a new createdAt): no longer old
        const current = await this.metadata.getManifest(repository, node.digest);
        if (!current || current.createdAt !== node.createdAt) continue;
        if (!(await this.metadata.deleteManifest(repository, node.digest))) continue;
        options.forget?.(repository, node.digest);
      }
      report.manifests++;
    }
  }
}

/** The closure of the roots (tagged, or young and not a referrer of a present subject) over the keep edges. */
export function keptManifests(nodes: Map<string, Node>, tagged: Set<string>, cutoffMs: number): Set<string> {
  const referrers = new Map<string, string[]>();
  for (const node of nodes.values()) {
    if (node.subject && nodes.has(node.subject))
      referrers.set(node.subject, [...(referrers.get(node.subject) ?? []), node.digest]);
  }
  const kept = new Set<string>();
  const work: string[] = [];
  for (const node of nodes.values()) {
    const followsSubject = node.subject !== undefined && nodes.has(node.subject);
    const young = Date.parse(node.createdAt) >= cutoffMs;
    if (tagged.has(node.digest) || (young && !followsSubject)) work.push(node.digest);
  }
  while (work.length > 0) {
    const digest = work.pop() as string;
    if (kept.has(digest)) continue;
    kept.add(digest);
    const node = nodes.get(digest);
    if (!node) continue;
    for (const next of [...node.children, ...(referrers.get(digest) ?? []), ...(node.subject ? [node.subject] : [])])
      if (nodes.has(next) && !kept.has(next)) work.push(next);
  }
  return kept;
}
