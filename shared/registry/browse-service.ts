import type { BrowseStore, RepositoryStats } from "../storage/ports/browse-store.js";
import type { MetadataStore } from "../storage/ports/metadata-store.js";
import { RegistryError } from "./errors.js";
import { IMAGE_TYPES, INDEX_TYPES } from "./media-types.js";

/** A repository as the web UI lists it. */
export interface RepositorySummary extends RepositoryStats {
  name: string;
}

export interface Platform {
  os?: string;
  architecture?: string;
  variant?: string;
}

/** A tag as the web UI lists it. */
export interface TagSummary {
  tag: string;
  digest: string;
  mediaType: string;
  pushedAt: string;
  /** Bytes of the manifest itself. */
  manifestSize: number;
  /** Manifest, config and layers, for an image manifest kept inline (most are). */
  imageSize?: number;
  /** For an index: the platforms of its manifests. */
  platforms?: Platform[];
}

export interface BrowseOptions {
  /** Largest page a caller may ask for. */
  maxPageSize: number;
  /** Rows read per repository for its figures (tags, blobs): keeps a page view cheap. */
  statsRowLimit: number;
}

/**
 * What people browsing the registry see beyond the v2 API: repositories with figures, tags with
 * push times, sizes and platforms. Every read is paged and bounded; nothing lists the whole
 * registry. Which repositories a caller may see is the caller's business (`visible`).
 */
export class BrowseService {
  constructor(
    private readonly store: BrowseStore,
    private readonly metadata: MetadataStore,
    private readonly options: BrowseOptions,
  ) {}

  /**
   * The next repositories after `after` whose names start with `prefix` and that `visible`
   * allows, with their figures. Reads at most 10 catalog pages for one answer: `next` then
   * says where to go on, even if fewer than `n` were found.
   */
  async repositories(
    visible: (name: string) => boolean,
    prefix: string,
    after: string | undefined,
    n: number | undefined,
  ): Promise<{ repositories: RepositorySummary[]; next?: string }> {
    const limit = this.limit(n);
    const names: string[] = [];
    let cursor = after;
    for (let round = 0; round < 10; round++) {
      const page = await this.store.listRepositories(prefix, cursor, limit);
      for (const [index, name] of page.items.entries()) {
        cursor = name;
        if (visible(name)) names.push(name);
        if (names.length === limit) {
          const more = page.more || index < page.items.length - 1;
          return this.answer(names, more ? cursor : undefined);
        }
      }
      if (!page.more) return this.answer(names, undefined);
    }
    return this.answer(names, cursor);
  }

  private async answer(names: string[], next: string | undefined) {
    const result: { repositories: RepositorySummary[]; next?: string } = { repositories: await this.summaries(names) };
    if (next !== undefined) result.next = next;
    return result;
  }

  /** Tags after `last` with what they point at; NAME_UNKNOWN for an unknown repository. */
  async tags(
    repository: string,
    last: string | undefined,
    n: number | undefined,
  ): Promise<{ tags: TagSummary[]; more: boolean }> {
    const page = await this.store.listTagDetails(repository, last, this.limit(n));
    if (page.items.length === 0 && !(await this.metadata.hasRepository(repository))) {
      throw new RegistryError("NAME_UNKNOWN", "repository name not known to registry", { repository });
    }
    const tags = page.items.map((detail) => {
      const summary: TagSummary = {
        tag: detail.tag,
        digest: detail.digest,
        mediaType: detail.mediaType,
        pushedAt: detail.pushedAt,
        manifestSize: detail.size,
      };
      Object.assign(summary, describeContent(detail.mediaType, detail.size, detail.content));
      return summary;
    });
    return { tags, more: page.more };
  }

  private summaries(names: string[]): Promise<RepositorySummary[]> {
    return Promise.all(
      names.map(async (name) => ({ name, ...(await this.store.repositoryStats(name, this.options.statsRowLimit)) })),
    );
  }

  private limit(n: number | undefined): number {
    return Math.max(1, Math.min(n ?? 50, this.options.maxPageSize));
  }
}

interface ManifestShape {
  mediaType?: string;
  config?: { size?: number };
  layers?: { size?: number }[];
  manifests?: { platform?: Platform }[];
}

/** Size and platforms from manifest bytes kept inline; nothing when they are not (no extra read). */
function describeContent(
  mediaType: string,
  size: number,
  content: Uint8Array | undefined,
): Pick<TagSummary, "imageSize" | "platforms"> {
  if (!content) return {};
  let manifest: ManifestShape;
  try {
    manifest = JSON.parse(new TextDecoder().decode(content)) as ManifestShape;
  } catch {
    return {};
  }
  const type = manifest.mediaType ?? mediaType;
  if (INDEX_TYPES.has(type) || (Array.isArray(manifest.manifests) && !manifest.layers)) {
    const platforms = (manifest.manifests ?? []).flatMap((m) => (m.platform ? [pickPlatform(m.platform)] : []));
    return { platforms };
  }
  if (IMAGE_TYPES.has(type) || Array.isArray(manifest.layers)) {
    const layers = (manifest.layers ?? []).reduce((sum, layer) => sum + (Number(layer.size) || 0), 0);
    return { imageSize: size + (Number(manifest.config?.size) || 0) + layers };
  }
  return {};
}

function pickPlatform(platform: Platform): Platform {
  const picked: Platform = {};
  if (typeof platform.os === "string") picked.os = platform.os;
  if (typeof platform.architecture === "string") picked.architecture = platform.architecture;
  if (typeof platform.variant === "string") picked.variant = platform.variant;
  return picked;
}
