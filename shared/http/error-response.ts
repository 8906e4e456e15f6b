import {
  MethodNotAllowedError,
  RangeNotSatisfiableError,
  RegistryError,
  UploadRangeError,
  type ErrorCode,
} from "../registry/errors.js";
import { TooManyRequestsError, UnauthorizedError } from "./auth-errors.js";
import { uploadHeaders } from "./upload-headers.js";

/** The one table from error code to HTTP status (OCI Distribution Spec, "Error Codes"). */
const STATUS: Record<ErrorCode, number> = {
  BLOB_UNKNOWN: 404,
  BLOB_UPLOAD_INVALID: 400,
  BLOB_UPLOAD_UNKNOWN: 404,
  DIGEST_INVALID: 400,
  MANIFEST_BLOB_UNKNOWN: 404,
  MANIFEST_INVALID: 400,
  MANIFEST_UNKNOWN: 404,
  NAME_INVALID: 400,
  NAME_UNKNOWN: 404,
  SIZE_INVALID: 400,
  TAG_INVALID: 400,
  UNAUTHORIZED: 401,
  DENIED: 403,
  UNSUPPORTED: 415,
  TOOMANYREQUESTS: 429,
  RANGE_INVALID: 416,
  PAGINATION_NUMBER_INVALID: 400,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  UNKNOWN: 500,
};

export const API_VERSION_HEADER = { "Docker-Distribution-API-Version": "registry/2.0" } as const;

/** The one place that writes an error body: `{"errors":[{code,message,detail}]}`. */
export function errorResponse(error: unknown, method = "GET"): Response {
  const known = error instanceof RegistryError ? error : new RegistryError("UNKNOWN", "internal error");
  const headers: Record<string, string> = { ...API_VERSION_HEADER, "Content-Type": "application/json" };
  let status = known.status ?? STATUS[known.code];
  if (known instanceof UploadRangeError) {
    // an out-of-order chunk: 416, and where the upload really stands
    status = 416;
    Object.assign(headers, uploadHeaders(known.repository, known.uploadId, known.offset));
  } else if (known instanceof RangeNotSatisfiableError) {
    headers["Content-Range"] = `bytes */${known.size}`; // RFC 9110: the size the range missed
  } else if (known instanceof MethodNotAllowedError) {
    headers.Allow = known.allowed.join(", "); // RFC 9110: a 405 must list what is allowed
  } else if (known instanceof UnauthorizedError) {
    headers["WWW-Authenticate"] = known.challenge; // where and how to get a token
  } else if (known instanceof TooManyRequestsError) {
    headers["Retry-After"] = String(known.retryAfterSeconds);
  }
  const body = JSON.stringify({
    errors: [{ code: known.code, message: known.message, detail: known.detail ?? {} }],
  });
  // a HEAD response has no body, but keeps the status
  return new Response(method === "HEAD" ? null : body, { status, headers });
}

export function statusOf(code: ErrorCode): number {
  return STATUS[code];
}
