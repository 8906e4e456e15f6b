import type { AccessRequest } from "../../auth/access.js";
import { parseScopes, ScopeError } from "../../auth/scopes.js";
import type { TokenGrantRequest } from "../../auth/token-service.js";
import { basicCredentials } from "../basic-credentials.js";
import { readLimited } from "../body.js";
import { badRequest } from "./oauth-error.js";

/** A token request as it arrived, and the `service` it names (checked against ours). */
export interface ParsedTokenRequest extends TokenGrantRequest {
  service: string | undefined;
}

/** Authorization that is not usable Basic credentials (answered like wrong credentials). */
export class MalformedCredentialsError extends Error {
  override name = "MalformedCredentialsError";
}

const MAX_FORM_BYTES = 64 * 1024;
/** More scopes than any client asks for at once would only make a huge token. */
const MAX_SCOPES = 100;

/**
 * A token request, whichever way it came (Docker token spec):
 * - GET with Basic auth (`docker login`, skopeo, podman): `service`, repeated `scope`,
 *   `account`, `offline_token=true`, `client_id`; without Authorization it is anonymous.
 * - POST `application/x-www-form-urlencoded` (OAuth2; containerd, Docker after login):
 *   `grant_type=password` with `username`/`password`, or `grant_type=refresh_token` with
 *   `refresh_token`; `client_id`, space-separated `scope`, `access_type=offline`, `service`.
 */
export async function parseTokenRequest(
  request: Request,
  clientAddress: string | undefined,
): Promise<ParsedTokenRequest> {
  return request.method === "POST" ? parseForm(request, clientAddress) : parseQuery(request, clientAddress);
}

function parseQuery(request: Request, clientAddress: string | undefined): ParsedTokenRequest {
  const query = new URL(request.url).searchParams;
  const common = {
    scopes: scopes(query.getAll("scope")),
    service: query.get("service") ?? undefined,
    clientId: query.get("client_id") ?? "",
  };
  const authorization = request.headers.get("authorization");
  if (authorization === null) return { ...common, credentials: { grant: "anonymous" }, offline: false };
  const basic = basicCredentials(authorization);
  if (!basic) throw new MalformedCredentialsError("credentials are not valid Basic authentication");
  const account = query.get("account");
  if (account !== null && account !== basic.username) throw badRequest("account does not match the credentials");
  return {
    ...common,
    credentials: { grant: "password", ...basic, clientAddress },
    offline: query.get("offline_token") === "true",
  };
}

async function parseForm(request: Request, clientAddress: string | undefined): Promise<ParsedTokenRequest> {
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
    const offline = form.get("access_type") === "offline";
    return { ...common, credentials: { grant, username, password, clientAddress }, offline };
  }
  if (grant === "refresh_token") {
    const refreshToken = form.get("refresh_token");
    if (!refreshToken) throw badRequest("refresh_token is required");
    return { ...common, credentials: { grant, refreshToken }, offline: false };
  }
  throw badRequest(`unsupported grant_type "${grant ?? ""}"`, "unsupported_grant_type");
}

function scopes(values: string[]): AccessRequest[] {
  let parsed: AccessRequest[];
  try {
    parsed = parseScopes(values);
  } catch (error) {
    if (error instanceof ScopeError) throw badRequest(error.message, "invalid_scope");
    throw error;
  }
  if (parsed.length > MAX_SCOPES) throw badRequest(`at most ${MAX_SCOPES} scopes per request`, "invalid_scope");
  return parsed;
}
