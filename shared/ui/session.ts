/**
 * The signed-in user's session: a refresh token from the token endpoint (kept for this tab
 * only), and short-lived access tokens per scope, sent as bearer headers. No cookies, so no
 * cross-site request can act as the user.
 */
const STORAGE_KEY = "stowage.session";
const CLIENT_ID = "stowage-ui";

interface Session {
  username: string;
  refreshToken: string;
}

interface Token {
  token: string;
  granted: string[];
  expiresAt: number;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

let session: Session | null = readSession();
const tokens = new Map<string, Promise<Token>>();
const listeners = new Set<() => void>();

function readSession(): Session | null {
  try {
    return JSON.parse(sessionStorage.getItem(STORAGE_KEY) ?? "null") as Session | null;
  } catch {
    return null;
  }
}

function setSession(value: Session | null): void {
  session = value;
  tokens.clear();
  if (value) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(value));
  else sessionStorage.removeItem(STORAGE_KEY);
  listeners.forEach((listener) => listener());
}

export function currentUser(): string | undefined {
  return session?.username;
}

export function onSessionChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The message of an error answer: OAuth2's `error_description` or the registry's `errors`. */
async function errorOf(response: Response): Promise<ApiError> {
  const body = (await response.json().catch(() => ({}))) as {
    error_description?: string;
    errors?: { message?: string }[];
  };
  let message = body.error_description ?? body.errors?.[0]?.message ?? `the server answered ${response.status}`;
  const retry = response.headers.get("retry-after");
  if (response.status === 429 && retry) message += ` (try again in ${retry} s)`;
  return new ApiError(response.status, message);
}

/**
 * Every request omits credentials: no cookies are involved, and the browser then never answers
 * the token endpoint's Basic challenge (a wrong password) with its own login dialog.
 */
const OMIT: RequestInit = { credentials: "omit" };

async function tokenEndpoint(form: Record<string, string>): Promise<Record<string, unknown>> {
  const response = await fetch("/token", {
    ...OMIT,
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(form),
  });
  if (!response.ok) throw await errorOf(response);
  return (await response.json()) as Record<string, unknown>;
}

/** Signs in with a user's password or an access token's secret. */
export async function signIn(username: string, password: string): Promise<void> {
  const body = await tokenEndpoint({
    grant_type: "password",
    username,
    password,
    client_id: CLIENT_ID,
    access_type: "offline",
  });
  if (typeof body.refresh_token !== "string") throw new ApiError(500, "the token endpoint gave no refresh token");
  setSession({ username, refreshToken: body.refresh_token });
}

/** Signs out: the refresh token is revoked on the server, then forgotten here. */
export async function signOut(): Promise<void> {
  const refreshToken = session?.refreshToken;
  setSession(null);
  if (refreshToken) {
    await fetch("/token/revoke", {
      ...OMIT,
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: refreshToken }),
    });
  }
}

/** An access token for a scope (space-separated scopes; "" for none), cached until shortly before it expires. */
function tokenFor(scope: string): Promise<Token> {
  const cached = tokens.get(scope);
  if (cached) return cached;
  const pending = (async () => {
    if (!session) throw new ApiError(401, "not signed in");
    let body: Record<string, unknown>;
    try {
      body = await tokenEndpoint({
        grant_type: "refresh_token",
        refresh_token: session.refreshToken,
        client_id: CLIENT_ID,
        ...(scope ? { scope } : {}),
      });
    } catch (error) {
      // a revoked or expired session: back to the sign-in page
      if (error instanceof ApiError && error.status === 401) setSession(null);
      throw error;
    }
    const expiresIn = Number(body.expires_in) || 60;
    return {
      token: String(body.token),
      granted: String(body.scope ?? "")
        .split(" ")
        .filter(Boolean),
      expiresAt: Date.now() + (expiresIn - 10) * 1000,
    };
  })();
  tokens.set(scope, pending);
  pending.then(
    (token) => setTimeout(() => tokens.delete(scope), Math.max(token.expiresAt - Date.now(), 0)),
    () => tokens.delete(scope),
  );
  return pending;
}

/** Whether the signed-in identity is granted a scope such as `repository:team/app:delete`. */
export async function isGranted(scope: string): Promise<boolean> {
  try {
    return (await tokenFor(scope)).granted.includes(scope);
  } catch {
    return false;
  }
}

function challengedScope(response: Response): string | undefined {
  const header = response.headers.get("www-authenticate") ?? "";
  return /^Bearer /i.test(header) ? /scope="([^"]*)"/.exec(header)?.[1] : undefined;
}

/**
 * A request to the registry or the JSON API with a bearer token for `scope`. If the answer is
 * a challenge for another scope (as registry clients do it), one more try with that token.
 */
export async function call(path: string, init: RequestInit & { scope?: string } = {}): Promise<Response> {
  const { scope = "", ...rest } = init;
  const send = async (s: string) => {
    const headers = new Headers(rest.headers);
    headers.set("Authorization", `Bearer ${(await tokenFor(s)).token}`);
    return fetch(path, { ...rest, ...OMIT, headers });
  };
  let response = await send(scope);
  const asked = response.status === 401 ? challengedScope(response) : undefined;
  if (asked !== undefined && asked !== scope) response = await send(asked);
  if (!response.ok) throw await errorOf(response);
  return response;
}

export async function getJson<T>(path: string, scope = "", headers: Record<string, string> = {}): Promise<T> {
  return (await (await call(path, { scope, headers })).json()) as T;
}

export async function sendJson<T>(path: string, method: string, body: unknown, scope = ""): Promise<T> {
  const response = await call(path, {
    method,
    scope,
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  return (await response.json()) as T;
}
