import { AuthenticationError } from "../../auth/authentication-error.js";
import { formatScopes } from "../../auth/scopes.js";
import type { SigningKeys } from "../../auth/signing-keys.js";
import type { TokenService } from "../../auth/token-service.js";
import { answering } from "../answering.js";
import { clientAddress } from "../client-address.js";
import { describeError } from "../error-response.js";
import type { FetchHandler, RequestInfo, RequestObserver } from "../fetch-handler.js";
import { HttpError, methodNotAllowed } from "../http-error.js";
import { tokenUrl, type PublicUrlOptions } from "../public-url.js";
import { badRequest, OAuthError } from "./oauth-error.js";
import { MalformedCredentialsError, parseTokenRequest } from "./token-request.js";

export const TOKEN_PATH = "/token";
export const JWKS_PATH = "/token/jwks";
/** RFC 7009 revocation of a refresh token (the web UI's sign-out). */
export const REVOKE_PATH = "/token/revoke";

/** Whether a path belongs to the token endpoint. */
export function isTokenPath(path: string): boolean {
  return path === TOKEN_PATH || path === JWKS_PATH || path === REVOKE_PATH;
}

export interface TokenAppOptions extends PublicUrlOptions {
  tokens: TokenService;
  keys: SigningKeys;
  /** This registry's name: a request for another service's token is refused. */
  service: string;
  observe?: RequestObserver;
}

/**
 * The token server's HTTP side (Docker token spec + its OAuth2 form): `/token` answers GET
 * logins and POST forms with a signed access token, `/token/jwks` publishes the public keys.
 */
export function createTokenApp(options: TokenAppOptions): FetchHandler {
  return answering((request, info) => route(options, request, info), options.observe, tokenErrorResponse);
}

async function route(options: TokenAppOptions, request: Request, info: RequestInfo): Promise<Response> {
  const path = new URL(request.url).pathname;
  if (path === JWKS_PATH) {
    if (request.method !== "GET") throw methodNotAllowed(request.method, ["GET"]);
    return json(await options.keys.jwks(), { "Cache-Control": "public, max-age=300" });
  }
  if (path === REVOKE_PATH) return revoke(options, request);
  if (path !== TOKEN_PATH) throw new HttpError(404, "UNSUPPORTED", "no such endpoint", {}, { path });
  if (request.method !== "GET" && request.method !== "POST") throw methodNotAllowed(request.method, ["GET", "POST"]);
  try {
    const tokenRequest = await parseTokenRequest(request, clientAddress(request, info, options.trustProxy));
    if (tokenRequest.service !== undefined && tokenRequest.service !== options.service) {
      throw badRequest(`unknown service "${tokenRequest.service}"`);
    }
    const grant = await options.tokens.grant(tokenRequest);
    const body: Record<string, unknown> = {
      token: grant.token,
      access_token: grant.token, // OAuth2 clients (containerd) read this one
      expires_in: grant.expiresIn,
      issued_at: grant.issuedAt.toISOString(),
      scope: formatScopes(grant.access),
    };
    if (grant.refreshToken) body.refresh_token = grant.refreshToken;
    // tokens must not be cached by anything on the way (RFC 6749 5.1)
    return json(body, { "Cache-Control": "no-store", Pragma: "no-cache" });
  } catch (error) {
    if (error instanceof MalformedCredentialsError)
      throw unauthorized(request, options, "invalid_client", error.message);
    if (error instanceof AuthenticationError) {
      const code = error.reason === "authentication_required" ? "invalid_client" : "invalid_grant";
      throw unauthorized(request, options, code, error.message);
    }
    throw error;
  }
}

/**
 * `POST /token/revoke` with the form `token=<refresh token>`: the refresh token stops working.
 * The refresh token is its own credential, so no other authentication; and as RFC 7009 says,
 * an unknown or already revoked token is answered 200 too (nothing to learn from the answer).
 */
async function revoke(options: TokenAppOptions, request: Request): Promise<Response> {
  if (request.method !== "POST") throw methodNotAllowed(request.method, ["POST"]);
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/x-www-form-urlencoded\b/i.test(type)) throw badRequest("expected a form body");
  const form = new URLSearchParams((await request.text()).slice(0, 8192));
  const token = form.get("token");
  if (!token) throw badRequest("missing token");
  await options.tokens.revoke(token);
  return json({}, { "Cache-Control": "no-store" });
}

/** 401 with a Basic challenge: the token endpoint takes a user name and password. */
function unauthorized(
  request: Request,
  options: TokenAppOptions,
  code: "invalid_client" | "invalid_grant",
  message: string,
): OAuthError {
  return new OAuthError(401, code, message, {
    "WWW-Authenticate": `Basic realm="${tokenUrl(request, options)}",charset="UTF-8"`,
  });
}

/**
 * An error body both kinds of token clients understand: the RFC 6749 `error` and
 * `error_description` that OAuth2 clients (containerd) read, and the registry's `errors`
 * array that docker, skopeo and podman read after a GET.
 */
function tokenErrorResponse(error: unknown): Response {
  const { status, code, message, detail, headers } = describeError(error);
  const oauth =
    error instanceof OAuthError
      ? error.oauthCode
      : status === 429
        ? "temporarily_unavailable"
        : status >= 500
          ? "server_error"
          : "invalid_request";
  const body = { error: oauth, error_description: message, errors: [{ code, message, detail }] };
  return json(body, { "Cache-Control": "no-store", ...headers }, status);
}

function json(body: unknown, headers: Record<string, string>, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "Content-Type": "application/json", ...headers } });
}
