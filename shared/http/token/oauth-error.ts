import { HttpError } from "../http-error.js";

/** RFC 6749 section 5.2 error codes (the ones a token endpoint answers with). */
export type OAuthErrorCode =
  "invalid_request" | "invalid_client" | "invalid_grant" | "unsupported_grant_type" | "invalid_scope";

/**
 * A token request refused by the token endpoint. It carries both vocabularies: the OAuth2
 * `error` that POST clients (containerd) read, and the registry code that GET clients
 * (docker, skopeo, podman) read from the `errors` array.
 */
export class OAuthError extends HttpError {
  constructor(
    status: number,
    readonly oauthCode: OAuthErrorCode,
    message: string,
    headers: Record<string, string> = {},
  ) {
    super(status, status === 401 ? "UNAUTHORIZED" : "UNSUPPORTED", message, headers);
  }
}

export function badRequest(message: string, code: OAuthErrorCode = "invalid_request"): OAuthError {
  return new OAuthError(400, code, message);
}
