import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { App } from "../../shared/app/build-app.js";
import type { Config } from "../../shared/app/config.js";
import type { FetchHandler, RequestInfo } from "../../shared/http/fetch-handler.js";
import { FileSecretStore } from "../../shared/storage/local/file-secret-store.js";
import { buildApp } from "../../shared/app/build-app.js";
import { isolatedConfig, type TestRegistry } from "../helpers/registry.js";

/** Shared steps of the auth suite: a registry with token auth on, and logging in to it. */

export const ADMIN_PASSWORD = "admin-password-for-tests";

export interface AuthRegistry {
  config: Config;
  app: App;
  auth: App["auth"];
  /** The whole application (token endpoint + registry), called with a path; the client address is unknown. */
  fetch(path: string, init?: RequestInit & { duplex?: "half" }): Promise<Response>;
  /** The same, as a client at `address` (what the Node adapter reads off the socket). */
  fetchFrom(address: string, path: string, init?: RequestInit): Promise<Response>;
}

const UNKNOWN_ADDRESS: RequestInfo = { clientAddress: undefined };

/**
 * A registry with its own tables, container and secrets directory, auth on, `admin` created
 * with ADMIN_PASSWORD. `now` is the clock every auth part uses (tests move it).
 */
export async function createAuthRegistry(
  connectionString: string,
  env: Record<string, string> = {},
  now: () => number = Date.now,
): Promise<AuthRegistry> {
  const config = isolatedConfig(connectionString, { STOWAGE_ADMIN_PASSWORD: ADMIN_PASSWORD, ...env });
  const secrets = new FileSecretStore(await mkdtemp(join(tmpdir(), "stw-secrets-")));
  const app = await buildApp(config, { connectionString, secrets, now });
  await app.prepare();
  const request = (path: string, init?: RequestInit) => new Request(`http://registry.test${path}`, init);
  return {
    config,
    app,
    auth: app.auth,
    fetch: (path, init) => app.handle(request(path, init), UNKNOWN_ADDRESS),
    fetchFrom: (address, path, init) => app.handle(request(path, init), { clientAddress: address }),
  };
}

export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;
}

export function bearer(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}

export interface TokenReply {
  token: string;
  access_token: string;
  expires_in: number;
  issued_at: string;
  refresh_token?: string;
  scope?: string;
}

/** GET /token with Basic credentials (docker, skopeo, podman); asserts 200 and returns the reply. */
export async function getToken(
  registry: AuthRegistry,
  user: string,
  password: string,
  scopes: string[] = [],
  extra = "",
): Promise<TokenReply> {
  const query = [...scopes.map((s) => `scope=${encodeURIComponent(s)}`), "service=stowage", extra]
    .filter(Boolean)
    .join("&");
  const response = await registry.fetch(`/token?${query}`, { headers: { authorization: basic(user, password) } });
  const text = await response.text();
  assert.equal(response.status, 200, text);
  return JSON.parse(text) as TokenReply;
}

/** POST /token with an OAuth2 form (containerd, Docker after login). */
export function postToken(registry: AuthRegistry, form: Record<string, string>): Promise<Response> {
  return registry.fetch("/token", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form).toString(),
  });
}

/** The claims of a JWT, unverified (to look at what was granted). */
export function claims(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split(".")[1] as string, "base64url").toString()) as Record<string, unknown>;
}

/** Parses `Bearer realm="...",service="..."` into its parameters. */
export function challengeOf(response: Response): Record<string, string> {
  const header = response.headers.get("www-authenticate") ?? "";
  assert.match(header, /^Bearer /, `no Bearer challenge: "${header}"`);
  return Object.fromEntries([...header.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1] as string, m[2] as string]));
}

/** Asserts a 401 with the registry's error body and a Bearer challenge; returns the challenge. */
export async function assertChallenge(
  response: Response,
  scope?: string,
  error?: string,
): Promise<Record<string, string>> {
  const body = await response.text();
  assert.equal(response.status, 401, body);
  if (response.headers.get("content-length") !== "0" && body)
    assert.equal(JSON.parse(body).errors[0].code, "UNAUTHORIZED");
  const challenge = challengeOf(response);
  assert.equal(challenge.realm, "http://registry.test/token");
  assert.equal(challenge.service, "stowage");
  assert.equal(challenge.scope, scope);
  assert.equal(challenge.error, error);
  return challenge;
}

/** The registry as one token holder sees it (the protocol suite's helpers take this shape). */
export function as(registry: AuthRegistry, token: string): TestRegistry {
  const handle: FetchHandler = (request) => {
    const headers = new Headers(request.headers);
    headers.set("authorization", `Bearer ${token}`);
    return registry.fetch(new URL(request.url).pathname + new URL(request.url).search, {
      method: request.method,
      headers,
      ...(request.body ? { body: request.body, duplex: "half" as const } : {}),
    });
  };
  return {
    handle,
    config: registry.config,
    fetch: (path, init) => handle(new Request(`http://registry.test${path}`, init), UNKNOWN_ADDRESS),
  };
}

/** A token for the built-in admin with the given scopes. */
export async function adminToken(registry: AuthRegistry, scopes: string[]): Promise<string> {
  return (await getToken(registry, "admin", ADMIN_PASSWORD, scopes)).token;
}
