import { RegistryError } from "../registry/errors.js";

/**
 * Authentication failures that carry a header along with the error body (written by
 * error-response.ts like every other error).
 */

/** 401 with the `WWW-Authenticate` challenge telling the client where and how to log in. */
export class UnauthorizedError extends RegistryError {
  constructor(
    message: string,
    readonly challenge: string,
    detail?: unknown,
  ) {
    super("UNAUTHORIZED", message, detail);
  }
}

/** 429 with `Retry-After`: failed logins are being throttled. */
export class TooManyRequestsError extends RegistryError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super("TOOMANYREQUESTS", message, { retryAfterSeconds });
  }
}
