import { randomBytes } from "node:crypto";

/**
 * Stowage refuses anonymous requests, so the benchmark logs in as a client would: Basic auth
 * at the token endpoint for a bearer token scoped to the repository in the URL, cached per
 * repository (tokens last longer than any phase: the bench server sets a one-hour TTL).
 * Targets without registered credentials (distribution) get no Authorization header.
 */
const accounts = new Map<string, { user: string; password: string }>();
const tokens = new Map<string, Promise<string>>();

/** The admin password every bench server starts with. */
export const BENCH_ADMIN_PASSWORD = `bench-${randomBytes(12).toString("hex")}`;

export function registerCredentials(origin: string, user: string, password: string): void {
  accounts.set(origin, { user, password });
}

/** `{ Authorization }` for a registry URL, or `{}` when the target needs none. */
export async function authHeaders(url: string | URL): Promise<Record<string, string>> {
  const target = new URL(url);
  const account = accounts.get(target.origin);
  if (!account) return {};
  const repository = /^\/v2\/(.+?)\/(?:manifests|blobs|tags|referrers)\//.exec(target.pathname)?.[1];
  const scope = repository ? `repository:${repository}:pull,push,delete` : "";
  const key = `${target.origin} ${scope}`;
  let token = tokens.get(key);
  if (!token) {
    token = fetchToken(target.origin, account, scope);
    tokens.set(key, token);
  }
  return { Authorization: `Bearer ${await token}` };
}

/** The account registered for a registry's origin (for real clients' --creds), if any. */
export function accountFor(url: string | URL): { user: string; password: string } | undefined {
  return accounts.get(new URL(url).origin);
}

/** `Basic ...` for a registry's origin, or undefined when the target needs no credentials. */
export function basicCredentials(url: string | URL): string | undefined {
  const account = accounts.get(new URL(url).origin);
  return account && `Basic ${Buffer.from(`${account.user}:${account.password}`).toString("base64")}`;
}

async function fetchToken(origin: string, account: { user: string; password: string }, scope: string): Promise<string> {
  const query = new URLSearchParams({ service: "stowage", ...(scope ? { scope } : {}) });
  const basic = `Basic ${Buffer.from(`${account.user}:${account.password}`).toString("base64")}`;
  const response = await fetch(`${origin}/token?${query}`, { headers: { Authorization: basic } });
  if (!response.ok) throw new Error(`token request failed: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { token: string }).token;
}
