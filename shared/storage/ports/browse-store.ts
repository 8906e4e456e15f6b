import type { Page, TagRecord } from "./metadata-store.js";

/**
 * Read-only queries for people browsing the registry (the web UI's JSON API): tags with their
 * push times, and cheap per-repository figures. Kept apart from the MetadataStore the protocol
 * uses; the Azure Table implementation is storage/azure/azure-browse-store.ts.
 */

/** A tag as listed for people: what it points at and when it was last pushed. */
export interface TagDetail extends TagRecord {
  /** When the tag was last written (ISO 8601). */
  pushedAt: string;
}

/** Figures of one repository, from at most a bounded number of rows of each kind. */
export interface RepositoryStats {
  tags: number;
  /** False when there were more tag or blob rows than were read (the figures are lower bounds). */
  complete: boolean;
  /** The latest push of any tag (ISO 8601), if it has tags. */
  lastPushAt?: string;
  /** Bytes of the blobs the repository links (layers and configs; shared blobs counted in each). */
  blobBytes: number;
}

export interface BrowseStore {
  /** Repositories whose names start with `prefix`, after `after`, in lexical order. */
  listRepositories(prefix: string, after: string | undefined, limit: number): Promise<Page<string>>;
  /** Tags in lexical order after `after`, with their records and push times. */
  listTagDetails(repository: string, after: string | undefined, limit: number): Promise<Page<TagDetail>>;
  /** Counts reading at most `maxRows` tag rows and `maxRows` blob rows. */
  repositoryStats(repository: string, maxRows: number): Promise<RepositoryStats>;
}
