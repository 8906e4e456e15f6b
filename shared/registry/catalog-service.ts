import type { MetadataStore, Page, ReferrerRecord } from "../storage/ports/metadata-store.js";
import { RegistryError } from "./errors.js";

/** Content discovery: repository and tag listings (lexical order, paginated) and referrers. */
export interface Catalog {
  tags(repository: string, last: string | undefined, n: number | undefined): Promise<Page<string>>;
  repositories(last: string | undefined, n: number | undefined): Promise<Page<string>>;
  referrers(repository: string, subject: string, artifactType?: string): Promise<ReferrerRecord[]>;
}

export class CatalogService implements Catalog {
  constructor(
    private readonly metadata: MetadataStore,
    private readonly maxPageSize: number,
  ) {}

  async tags(repository: string, last: string | undefined, n: number | undefined): Promise<Page<string>> {
    // n=0 asks for no tags, but an unknown repository must still be reported as unknown
    const page = n === 0 ? { items: [], more: false } : await this.metadata.listTags(repository, last, this.limit(n));
    // an empty page: tell an unknown repository apart from one without (more) tags
    if (page.items.length === 0 && !(await this.metadata.hasRepository(repository))) {
      throw new RegistryError("NAME_UNKNOWN", "repository name not known to registry", { repository });
    }
    return page;
  }

  async repositories(last: string | undefined, n: number | undefined): Promise<Page<string>> {
    return this.metadata.listRepositories(last, this.limit(n));
  }

  private limit(n: number | undefined): number {
    return Math.min(n ?? this.maxPageSize, this.maxPageSize);
  }

  /**
   * The referrers of `subject` (manifests naming it as their subject), optionally only those
   * of one artifact type. An unknown subject simply has none.
   */
  async referrers(repository: string, subject: string, artifactType?: string): Promise<ReferrerRecord[]> {
    const all = await this.metadata.listReferrers(repository, subject);
    return artifactType === undefined ? all : all.filter((r) => r.artifactType === artifactType);
  }
}
