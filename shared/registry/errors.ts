/**
 * Domain errors. Every failure the registry reports to a client is a RegistryError carrying one
 * of the OCI Distribution (and Docker Registry v2) error codes; the HTTP layer maps the code to
 * a status with one table (shared/http/error-response.ts).
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
  | "UNAUTHORIZED"
  | "DENIED"
  | "UNSUPPORTED"
  | "TOOMANYREQUESTS"
  | "RANGE_INVALID"
  | "PAGINATION_NUMBER_INVALID"
  | "NOT_FOUND"
  | "METHOD_NOT_ALLOWED"
  | "UNKNOWN";

export class RegistryError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly detail?: unknown,
    /** Overrides the code's usual status where the spec asks for another (413, 405...). */
    readonly status?: number,
  ) {
    super(message);
    this.name = "RegistryError";
  }
}

/**
 * A chunk that does not continue an upload where it stands. Carries the upload's current state
 * so the client can be told (416 with Range and Location) where to resume.
 */
export class UploadRangeError extends RegistryError {
  constructor(
    readonly repository: string,
    readonly uploadId: string,
    readonly offset: number,
  ) {
    super("BLOB_UPLOAD_INVALID", "chunk does not start at the current upload offset", { offset });
  }
}

/** A blob range request that starts past the end: 416, and the Content-Range naming the size. */
export class RangeNotSatisfiableError extends RegistryError {
  constructor(readonly size: number) {
    super("RANGE_INVALID", "requested range not satisfiable", { size });
  }
}

/** A body over a configured limit (manifests): 413, as the spec asks of oversized manifests. */
export class PayloadTooLargeError extends RegistryError {
  constructor(readonly limit: number) {
    super("SIZE_INVALID", `body exceeds ${limit} bytes`, { limit }, 413);
  }
}

/** A method the endpoint does not offer: 405, with the `Allow` header HTTP requires. */
export class MethodNotAllowedError extends RegistryError {
  constructor(
    method: string,
    readonly allowed: string[],
  ) {
    super("METHOD_NOT_ALLOWED", `${method} not allowed here`, { allowed });
  }
}
