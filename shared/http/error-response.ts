import { ClientClosedError } from "../lib/node-web-streams.js";
import { RegistryError, type ErrorCode } from "../registry/errors.js";
import { HttpError } from "./http-error.js";
import { uploadHeaders } from "./registry/upload-headers.js";

type Detail = Record<string, unknown>;

interface WireError {
  status: number;
  /** The code written on the wire, when it is not the domain code itself. */
  code?: string;
  headers?: (detail: Detail) => Record<string, string>;
}

/** The one table from domain error code to status, wire code and headers (OCI Distribution Spec, "Error Codes"). */
const WIRE: Record<ErrorCode, WireError> = {
  BLOB_UNKNOWN: { status: 404 },
  BLOB_UPLOAD_INVALID: { status: 400 },
  BLOB_UPLOAD_UNKNOWN: { status: 404 },
  DIGEST_INVALID: { status: 400 },
  MANIFEST_BLOB_UNKNOWN: { status: 404 },
  MANIFEST_INVALID: { status: 400 },
  MANIFEST_UNKNOWN: { status: 404 },
  NAME_INVALID: { status: 400 },
  NAME_UNKNOWN: { status: 404 },
  SIZE_INVALID: { status: 400 },
  TAG_INVALID: { status: 400 },
  DENIED: { status: 403 },
  UNSUPPORTED: { status: 415 },
  TOOMANYREQUESTS: { status: 429, headers: (d) => ({ "Retry-After": String(d.retryAfterSeconds) }) },
  PAGINATION_NUMBER_INVALID: { status: 400 },
  // an out-of-order chunk: 416, and where the upload really stands
  UPLOAD_OUT_OF_ORDER: {
    status: 416,
    code: "BLOB_UPLOAD_INVALID",
    headers: (d) =>
      uploadHeaders(
        String(d.repository),
        String(d.id),
        Number(d.offset),
        d.state === undefined ? undefined : String(d.state),
      ),
  },
  // RFC 9110: the size the range missed
  RANGE_NOT_SATISFIABLE: {
    status: 416,
    code: "RANGE_INVALID",
    headers: (d) => ({ "Content-Range": `bytes */${d.size}` }),
  },
  // the spec's answer to an oversized manifest
  TOO_LARGE: { status: 413, code: "SIZE_INVALID" },
  // registries may refuse deletes; the spec's answer is 405 UNSUPPORTED
  DELETES_DISABLED: { status: 405, code: "UNSUPPORTED" },
  UNKNOWN: { status: 500 },
};

/**
 * On every registry answer. Spread it after a literal's own properties, never before them: on
 * Node 20 a literal that starts with a spread and goes on with properties is built ~50x slower
 * (microseconds, on every manifest and blob read).
 */
export const API_VERSION_HEADER = { "Docker-Distribution-API-Version": "registry/2.0" } as const;

/** What a failure looks like on the wire, whoever raised it (anything unknown is a 500). */
export interface DescribedError {
  status: number;
  code: string;
  message: string;
  detail: unknown;
  headers: Record<string, string>;
}

export function describeError(error: unknown): DescribedError {
  // nginx's 499: nobody reads this answer, and it is not the server's failure
  if (error instanceof ClientClosedError) {
    return { status: 499, code: "CLIENT_CLOSED", message: "client closed the request", detail: {}, headers: {} };
  }
  if (error instanceof HttpError) {
    const { status, code, message, detail, headers } = error;
    return { status, code, message, detail: detail ?? {}, headers };
  }
  const known = error instanceof RegistryError ? error : new RegistryError("UNKNOWN", "internal error");
  const wire = WIRE[known.code];
  const detail = known.detail ?? {};
  return {
    status: wire.status,
    code: wire.code ?? known.code,
    message: known.message,
    detail,
    headers: wire.headers?.(detail) ?? {},
  };
}

/** The one place that writes a registry error body: `{"errors":[{code,message,detail}]}`. */
export function errorResponse(error: unknown, method = "GET"): Response {
  const { status, code, message, detail, headers } = describeError(error);
  const body = JSON.stringify({ errors: [{ code, message, detail }] });
  // a HEAD response has no body, but keeps the status (and says how long the body would be)
  return new Response(method === "HEAD" ? null : body, {
    status,
    headers: {
      "Content-Type": "application/json",
      "Content-Length": String(Buffer.byteLength(body)),
      ...API_VERSION_HEADER,
      ...headers,
    },
  });
}
