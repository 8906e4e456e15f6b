import type { BlobRecord } from "../storage/ports/metadata-store.js";
import type { Body, ChunkRange } from "./body.js";

/** `session`: an upload opened, with the sealed state its URL carries. */
export type StartResult =
  { kind: "session"; id: string; state: string } | { kind: "blob"; record: BlobRecord; mounted: boolean };

/** An upload as its URL names it. `state`: the sealed progress the URL carries (none: read the session row, which exists once its first PATCH wrote bytes). */
export interface UploadRef {
  repository: string;
  id: string;
  state?: string | undefined;
}

/** Where an upload stands: bytes received, and the sealed state for its next URL. */
export interface UploadProgress {
  offset: number;
  state: string;
}

/** Blob uploads, as the HTTP layer (and the event decorator) see them. */
export interface Uploads {
  start(repository: string, body: Body, options: StartOptions): Promise<StartResult>;
  status(upload: UploadRef): Promise<UploadProgress>;
  append(upload: UploadRef, body: Body, range?: ChunkRange): Promise<UploadProgress>;
  complete(upload: UploadRef, digest: string, body: Body): Promise<BlobRecord>;
  cancel(upload: UploadRef): Promise<void>;
}

/** `digest`: the whole blob is in this request; `mount`: link an existing blob instead. */
export interface StartOptions {
  digest?: string;
  mount?: { digest: string; from?: string };
}
