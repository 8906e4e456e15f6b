import type { AccessRequest, Action, Grant } from "../../auth/access.js";
import type { Registry } from "../../registry/registry-service.js";

/** What a handler gets: the request, the validated path parameters, and the registry. */
export interface RouteContext {
  request: Request;
  url: URL;
  params: Record<string, string>;
  /** The registry as this request sees it (with its events recorded, where configured). */
  registry: Registry;
  /** What the caller may do (already checked for this route's own needs). */
  grant: Grant;
}

export type Handler = (context: RouteContext) => Promise<Response>;

export interface Route {
  /** Matched against the URL path; named groups become params. */
  pattern: RegExp;
  methods: Partial<Record<string, Handler>>;
  /**
   * What the caller must be allowed: only to be authenticated, to list the catalog, or
   * actions on the repository named in the path (by method).
   */
  access: "authenticated" | "catalog" | ((method: string) => Action[]);
}

/** Reads pull, deletes delete, anything else writes (and Docker asks for pull with push). */
export const byMethod = (method: string): Action[] =>
  method === "GET" || method === "HEAD" ? ["pull"] : method === "DELETE" ? ["delete"] : ["pull", "push"];

/** Every method of an upload is part of a push (cancelling one included). */
export const pushing = (): Action[] => ["pull", "push"];

/** The access a matched route needs, as token scopes. */
export function neededAccess(route: Route, method: string, params: Record<string, string>): AccessRequest[] {
  if (route.access === "authenticated") return [];
  if (route.access === "catalog") return [{ type: "registry", name: "catalog", actions: ["*"] }];
  return [{ type: "repository", name: params.name as string, actions: route.access(method) }];
}

/**
 * Repository names contain `/`, so the name is a greedy match up to the last fixed segment.
 * Order matters: the upload routes come before `blobs/<digest>`.
 */
export function matchRoute(
  routes: Route[],
  path: string,
): { route: Route; params: Record<string, string> } | undefined {
  for (const route of routes) {
    const match = route.pattern.exec(path);
    if (match) return { route, params: { ...match.groups } };
  }
  return undefined;
}
