import type { RegistryService } from "../registry/registry-service.js";

/** What a handler gets: the request, the validated path parameters, and the service. */
export interface RouteContext {
  request: Request;
  url: URL;
  params: Record<string, string>;
  registry: RegistryService;
}

export type Handler = (context: RouteContext) => Promise<Response>;

export interface Route {
  /** Matched against the URL path; named groups become params. */
  pattern: RegExp;
  methods: Partial<Record<string, Handler>>;
}

/**
 * Repository names contain `/`, so the name is a greedy match up to the last fixed segment.
 * Order matters: the upload routes come before `blobs/<digest>`.
 */
export function matchRoute(routes: Route[], path: string): { route: Route; params: Record<string, string> } | undefined {
  for (const route of routes) {
    const match = route.pattern.exec(path);
    if (match) return { route, params: { ...match.groups } };
  }
  return undefined;
}
