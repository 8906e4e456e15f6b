/**
 * Domain errors. Every failure the registry reports to a client is a RegistryError carrying a
 * code; the HTTP layer maps each code to a status, a wire code and headers with one table
 * (shared/http/error-response.ts). Nothing here knows about HTTP.
 */
export type ErrorCode =
  | "BLOB_UNKNOWN"
  | "BLOB_UPLOAD_INVALID"
  | "BLOB_UPLOAD_UNKNOWN"
  | "DIGEST_INVALID"
  | "MANIFEST_BLOB_UNKNOWN"
  | "MANIFEST_INVALID"
  | "MANIFEST_UNKNOWN"
  | "NAME_INVALID"
  | "NAME_UNKNOWN"
  | "SIZE_INVALID"
  | "TAG_INVALID"
  | "DENIED"
  | "UNSUPPORTED"
  | "TOOMANYREQUESTS"
  | "PAGINATION_NUMBER_INVALID"
  /** A chunk that does not continue the upload where it stands (detail: repository, id, offset). */
  | "UPLOAD_OUT_OF_ORDER"
  /** A byte range that starts past the end of the blob (detail: size). */
  | "RANGE_NOT_SATISFIABLE"
  /** A body over a configured limit (detail: limit). */
  | "TOO_LARGE"
  /** The operator turned deletes off. */
  | "DELETES_DISABLED"
  | "UNKNOWN";

export class RegistryError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** What the client is told about it (written as the error's `detail`). */
    readonly detail?: Record<string, unknown>,
  ) {
    super(message);
    this.name = "RegistryError";
  }
}

/** The chunk does not start at the upload's offset: the client is told where it stands. */
/** `state`: the sealed upload state the client sent, for the Location of the answer. */
export function outOfOrder(
  { repository, id, offset }: { repository: string; id: string; offset: number },
  state: string | undefined,
): RegistryError {
  return new RegistryError("UPLOAD_OUT_OF_ORDER", "chunk does not start at the current upload offset", {
    repository,
    id,
    offset,
    ...(state !== undefined ? { state } : {}),
  });
}

export function tooLarge(limit: number): RegistryError {
  return new RegistryError("TOO_LARGE", `body exceeds ${limit} bytes`, { limit });
}

export function digestMismatch(digest: string, actual: string): RegistryError {
  return new RegistryError("DIGEST_INVALID", "provided digest did not match uploaded content", { digest, actual });
}

export function unknownUpload(id: string): RegistryError {
  return new RegistryError("BLOB_UPLOAD_UNKNOWN", "upload unknown", { id });
}

/** An upload that re-used a blob a sweep was deleting: the client uploads it again. */
export function collected(): RegistryError {
  return new RegistryError("BLOB_UPLOAD_INVALID", "the blob was being garbage-collected; upload it again");
}
