/**
 * A failure of the protocol itself, decided by the HTTP layer with its status and headers:
 * an unknown endpoint, a method an endpoint does not offer (405 with Allow), a request that
 * needs credentials (401 with the challenge). Domain failures are RegistryErrors instead.
 */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    /** The code written in the error body. */
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly detail?: unknown,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

/** 405, with the `Allow` header HTTP requires. */
export function methodNotAllowed(method: string, allowed: string[]): HttpError {
  return new HttpError(
    405,
    "UNSUPPORTED",
    `${method} not allowed here`,
    { Allow: allowed.join(", ") },
    {
      allowed,
    },
  );
}
