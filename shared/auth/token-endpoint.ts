import { UnauthorizedError } from "../http/auth-errors.js";
import { clientAddress } from "../http/client-address.js";
import { answering } from "../http/answering.js";
import type { FetchHandler, RequestObserver } from "../http/registry-app.js";
import { MethodNotAllowedError, RegistryError } from "../registry/errors.js";
import type { Authenticator, Identity } from "./identities.js";
import { grantedAccess } from "./permissions.js";
import { tokenUrl, type PublicUrlOptions } from "./public-url.js";
import type { RefreshTokens } from "./refresh-tokens.js";
import { formatScopes } from "./scopes.js";
import type { SigningKeys } from "./signing-keys.js";
import type { TokenIssuer } from "./token-issuer.js";
import { badRequest, CredentialsError, parseTokenRequest, type TokenRequest } from "./token-request.js";
import type { TokenSettings } from "./token-settings.js";

export const TOKEN_PATH = "/token";
export const JWKS_PATH = "/token/jwks";

/** Whether a path belongs to the token endpoint (the Node server routes on this). */
export function isTokenPath(path: string): boolean {
  return path === TOKEN_PATH || path === JWKS_PATH;
}

export interface TokenEndpointOptions extends PublicUrlOptions {
  settings: TokenSettings;
  authenticator: Authenticator;
  refreshTokens: RefreshTokens;
  issuer: TokenIssuer;
  keys: SigningKeys;
  /** Who asks without credentials, when anonymous pull is on. */
  anonymous: Identity | undefined;
  observe?: RequestObserver;
}

/**
 * The token server (Docker token spec + its OAuth2 form): authenticates the caller, grants
 * the intersection of the scopes asked for and the identity's rules (nothing for an unknown
 * repository, which is not an error), and answers with a signed access token, plus a refresh
 * token when offline access was asked with a password. Also publishes the public keys (JWKS).
 */
export function createTokenEndpoint(options: TokenEndpointOptions): FetchHandler {
  return answering((request) => route(options, request), options.observe);
}

async function route(options: TokenEndpointOptions, request: Request): Promise<Response> {
  const path = new URL(request.url).pathname;
  if (path === JWKS_PATH) {
    if (request.method !== "GET") throw new MethodNotAllowedError(request.method, ["GET"]);
    return json(await options.keys.jwks(), { "Cache-Control": "public, max-age=300" });
  }
  if (path !== TOKEN_PATH) throw new RegistryError("NOT_FOUND", "no such endpoint", { path });
  if (request.method !== "GET" && request.method !== "POST")
    throw new MethodNotAllowedError(request.method, ["GET", "POST"]);

  let tokenRequest: TokenRequest;
  try {
    tokenRequest = await parseTokenRequest(request);
  } catch (error) {
    if (error instanceof CredentialsError) throw unauthorized(request, options, "invalid credentials");
    throw error;
  }
  if (tokenRequest.service !== undefined && tokenRequest.service !== options.settings.service) {
    throw badRequest(`unknown service "${tokenRequest.service}"`);
  }
  const identity = await identify(options, request, tokenRequest);
  const access = grantedAccess(tokenRequest.scopes, identity.rules);
  const issued = await options.issuer.issue(identity.name, access);
  const body: Record<string, unknown> = {
    token: issued.token,
    access_token: issued.token, // OAuth2 clients (containerd) read this one
    expires_in: issued.expiresIn,
    issued_at: issued.issuedAt.toISOString(),
    scope: formatScopes(access),
  };
  if (tokenRequest.grant === "password" && tokenRequest.offline) {
    body.refresh_token = await options.refreshTokens.issue(identity, tokenRequest.clientId);
  }
  // tokens must not be cached by anything on the way (RFC 6749 5.1)
  return json(body, { "Cache-Control": "no-store", Pragma: "no-cache" });
}

async function identify(
  options: TokenEndpointOptions,
  request: Request,
  tokenRequest: TokenRequest,
): Promise<Identity> {
  switch (tokenRequest.grant) {
    case "anonymous":
      if (options.anonymous) return options.anonymous;
      throw unauthorized(request, options, "authentication required");
    case "password": {
      const address = clientAddress(request, options.trustProxy);
      const identity = await options.authenticator.login(tokenRequest.username, tokenRequest.password, address);
      if (!identity) throw unauthorized(request, options, "invalid username or password");
      return identity;
    }
    case "refresh_token": {
      const holder = await options.refreshTokens.redeem(tokenRequest.refreshToken);
      const identity = holder && (await options.authenticator.current(holder.subject));
      // a changed password (new epoch) voids the refresh tokens issued before it
      if (!holder || !identity || identity.epoch !== holder.epoch)
        throw unauthorized(request, options, "invalid refresh token");
      return identity;
    }
  }
}

function unauthorized(request: Request, options: TokenEndpointOptions, message: string): UnauthorizedError {
  return new UnauthorizedError(message, `Basic realm="${tokenUrl(request, options)}",charset="UTF-8"`);
}

function json(body: unknown, headers: Record<string, string>): Response {
  return new Response(JSON.stringify(body), {
    status: 200,
    headers: { "Content-Type": "application/json", ...headers },
  });
}
