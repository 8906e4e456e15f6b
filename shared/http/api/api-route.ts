import type { AccessRequest, Grant } from "../../auth/access.js";
import type { RequestInfo } from "../fetch-handler.js";

/** What an API handler gets: the request, its validated path parameters, and what the caller may do. */
export interface ApiContext {
  request: Request;
  url: URL;
  params: Record<string, string>;
  info: RequestInfo;
  /** Already checked against the route's own `access`; handlers filter what they list with it. */
  grant: Grant;
}

export type ApiHandler = (context: ApiContext) => Promise<Response>;

/**
 * One endpoint of Stowage's own JSON API (`/api/v1/...`), for the web UI and operators' tools.
 * Routes are data, like the registry's: a pattern (named groups become params; a `name` group
 * is validated as a repository name before anything else), handlers by method, and the
 * access each method needs, as token scopes (an empty list: only an authenticated caller).
 */
export interface ApiRoute {
  pattern: RegExp;
  methods: Partial<Record<string, ApiHandler>>;
  access: (method: string, params: Record<string, string>) => AccessRequest[];
}

/** A JSON answer that nothing on the way may cache (it depends on who asks). */
export function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", "Cache-Control": "no-store", ...headers },
  });
}
