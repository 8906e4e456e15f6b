import type { AccessRequest } from "../http/authorizer.js";
import { readLimited } from "../http/body.js";
import { RegistryError } from "../registry/errors.js";
import { parseScopes, ScopeError } from "./scopes.js";

/**
 * A token request, whichever way it came (Docker token spec):
 * - GET with Basic auth (`docker login`, skopeo, podman): `service`, repeated `scope`,
 *   `account`, `offline_token=true`, `client_id`; without Authorization it is anonymous.
 * - POST `application/x-www-form-urlencoded` (OAuth2; containerd, Docker after login):
 *   `grant_type=password` with `username`/`password`, or `grant_type=refresh_token` with
 *   `refresh_token`; `client_id`, space-separated `scope`, `access_type=offline`, `service`.
 */
export type TokenRequest = { scopes: AccessRequest[]; service: string | undefined; clientId: string } & (
  | { grant: "password"; username: string; password: string; offline: boolean }
  | { grant: "refresh_token"; refreshToken: string }
  | { grant: "anonymous" }
);

const MAX_FORM_BYTES = 64 * 1024;

/** A malformed token request: 400, with the reason. */
export function badRequest(message: string): RegistryError {
  return new RegistryError("UNSUPPORTED", message, undefined, 400);
}

export async function parseTokenRequest(request: Request): Promise<TokenRequest> {
  return request.method === "POST" ? parseForm(request) : parseQuery(request);
}

function parseQuery(request: Request): TokenRequest {
  const query = new URL(request.url).searchParams;
  const common = {
    scopes: scopes(query.getAll("scope")),
    service: query.get("service") ?? undefined,
    clientId: query.get("client_id") ?? "",
  };
  const authorization = request.headers.get("authorization");
  if (authorization === null) return { ...common, grant: "anonymous" };
  const { username, password } = basicCredentials(authorization);
  const account = query.get("account");
  if (account !== null && account !== username) throw badRequest("account does not match the credentials");
  return { ...common, grant: "password", username, password, offline: query.get("offline_token") === "true" };
}

async function parseForm(request: Request): Promise<TokenRequest> {
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/x-www-form-urlencoded\b/i.test(type))
    throw badRequest("expected an application/x-www-form-urlencoded body");
  const form = new URLSearchParams(new TextDecoder().decode(await readLimited(request, MAX_FORM_BYTES)));
  const common = {
    scopes: scopes(form.getAll("scope")),
    service: form.get("service") ?? undefined,
    clientId: form.get("client_id") ?? "",
  };
  const grant = form.get("grant_type");
  if (grant === "password") {
    const username = form.get("username");
    const password = form.get("password");
    if (!username || password === null) throw badRequest("username and password are required");
    return { ...common, grant, username, password, offline: form.get("access_type") === "offline" };
  }
  if (grant === "refresh_token") {
    const refreshToken = form.get("refresh_token");
    if (!refreshToken) throw badRequest("refresh_token is required");
    return { ...common, grant, refreshToken };
  }
  throw badRequest(`unsupported grant_type "${grant ?? ""}"`);
}

/** More scopes than any client asks for at once would only make a huge token. */
const MAX_SCOPES = 100;

function scopes(values: string[]): AccessRequest[] {
  try {
    const parsed = parseScopes(values);
    if (parsed.length > MAX_SCOPES) throw badRequest(`at most ${MAX_SCOPES} scopes per request`);
    return parsed;
  } catch (error) {
    if (error instanceof ScopeError) throw badRequest(error.message);
    throw error;
  }
}

/** `Basic base64(user:password)`; the password may contain colons, the user name may not. */
function basicCredentials(header: string): { username: string; password: string } {
  const match = /^Basic +([A-Za-z0-9+/=]+) *$/i.exec(header);
  const decoded = match ? Buffer.from(match[1] as string, "base64").toString("utf8") : "";
  const colon = decoded.indexOf(":");
  if (colon <= 0) throw new CredentialsError();
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Authorization that is not usable Basic credentials (answered like wrong credentials). */
export class CredentialsError extends Error {
  constructor() {
    super("credentials are not valid Basic authentication");
    this.name = "CredentialsError";
  }
}
