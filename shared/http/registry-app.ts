import { MethodNotAllowedError, RegistryError, type ErrorCode } from "../registry/errors.js";
import { assertName } from "../registry/references.js";
import type { RegistryService } from "../registry/registry-service.js";
import { answering } from "./answering.js";
import { API_VERSION_HEADER } from "./error-response.js";
import { deleteBlob, getBlob, headBlob } from "./handlers/blobs.js";
import { listRepositories, listTags } from "./handlers/listings.js";
import { deleteManifest, getManifest, headManifest, putManifest } from "./handlers/manifests.js";
import { listReferrers } from "./handlers/referrers.js";
import { uploadHandlers, type ChunkLimits } from "./handlers/uploads.js";
import { openAccess, type Authorizer } from "./authorizer.js";
import { notifierFor, type EventOptions } from "./event-notifier.js";
import { byMethod, matchRoute, neededAccess, pushing, type Handler, type Route } from "./route-table.js";

/** The fetch-style entry every adapter (Node server, Azure Functions) calls. */
export type FetchHandler = (request: Request) => Promise<Response>;

/** Observes each request once answered (logging, metrics); never sees bodies or secrets. */
export type RequestObserver = (request: Request, response: Response, error: unknown) => void;

// HEAD answers like GET, without the body (a fetch Response does not drop it by itself)
const base: Handler = async ({ request }) =>
  new Response(request.method === "HEAD" ? null : "{}", {
    status: 200,
    headers: { ...API_VERSION_HEADER, "Content-Type": "application/json" },
  });

/** What a path parameter that is not even valid percent-encoding is reported as. */
const MALFORMED: Record<string, ErrorCode> = { name: "NAME_INVALID", uuid: "BLOB_UPLOAD_UNKNOWN" };

/** Registries may refuse deletes; the spec's answer is 405 UNSUPPORTED. */
const deletesDisabled: Handler = async () => {
  throw new RegistryError("UNSUPPORTED", "deletes are disabled on this registry", undefined, 405);
};

function routes(chunks: ChunkLimits, deleteEnabled: boolean): Route[] {
  const uploads = uploadHandlers(chunks);
  const deletable = (handler: Handler) => (deleteEnabled ? handler : deletesDisabled);
  return [
    { pattern: /^\/v2\/?$/, methods: { GET: base, HEAD: base }, access: "authenticated" },
    { pattern: /^\/v2\/_catalog$/, methods: { GET: listRepositories }, access: "catalog" },
    { pattern: /^\/v2\/(?<name>.+)\/tags\/list$/, methods: { GET: listTags }, access: byMethod },
    {
      pattern: /^\/v2\/(?<name>.+)\/manifests\/(?<reference>[^/]+)$/,
      methods: { GET: getManifest, HEAD: headManifest, PUT: putManifest, DELETE: deletable(deleteManifest) },
      access: byMethod,
    },
    { pattern: /^\/v2\/(?<name>.+)\/blobs\/uploads\/?$/, methods: { POST: uploads.start }, access: pushing },
    {
      pattern: /^\/v2\/(?<name>.+)\/blobs\/uploads\/(?<uuid>[^/]+)$/,
      methods: { GET: uploads.status, PATCH: uploads.append, PUT: uploads.complete, DELETE: uploads.cancel },
      access: pushing,
    },
    {
      pattern: /^\/v2\/(?<name>.+)\/blobs\/(?<digest>[^/]+)$/,
      methods: { GET: getBlob, HEAD: headBlob, DELETE: deletable(deleteBlob) },
      access: byMethod,
    },
    { pattern: /^\/v2\/(?<name>.+)\/referrers\/(?<digest>[^/]+)$/, methods: { GET: listReferrers }, access: byMethod },
  ];
}

export interface RegistryAppOptions {
  chunks: ChunkLimits;
  /** Answer DELETE of manifests, tags and blobs (default); otherwise 405 UNSUPPORTED. */
  deleteEnabled?: boolean;
  /** Who may do what; defaults to open access (no authentication). */
  authorizer?: Authorizer;
  /** Where events about changes go; none when omitted. */
  events?: EventOptions;
  observe?: RequestObserver;
}

/**
 * The registry's HTTP protocol over a RegistryService. Validates the path (repository name
 * first, so bad names never reach storage), dispatches by route table, and turns every
 * failure into the spec's error JSON.
 */
export function createRegistryApp(registry: RegistryService, options: RegistryAppOptions): FetchHandler {
  const table = routes(options.chunks, options.deleteEnabled ?? true);
  const authorizer = options.authorizer ?? openAccess;
  return answering((request) => dispatch(table, registry, authorizer, options.events, request), options.observe);
}

async function dispatch(
  table: Route[],
  registry: RegistryService,
  authorizer: Authorizer,
  events: EventOptions | undefined,
  request: Request,
): Promise<Response> {
  const url = new URL(request.url);
  const found = matchRoute(table, url.pathname);
  if (!found) throw new RegistryError("NOT_FOUND", "no such endpoint", { path: url.pathname });
  const handler = found.route.methods[request.method];
  if (!handler) throw new MethodNotAllowedError(request.method, Object.keys(found.route.methods));
  const params: Record<string, string> = {};
  for (const [key, value] of Object.entries(found.params)) {
    try {
      params[key] = decodeURIComponent(value);
    } catch {
      throw new RegistryError(MALFORMED[key] ?? "DIGEST_INVALID", `malformed ${key}`);
    }
  }
  if (params.name !== undefined) assertName(params.name);
  // after the name is known valid, before any storage call
  const grant = await authorizer.authorize(request, neededAccess(found.route, request.method, params));
  const notify = notifierFor(request, grant.subject, events);
  return handler({ request, url, params, registry, grant, notify });
}
