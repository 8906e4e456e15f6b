import type { RequestOrigin } from "../../events/registry-event.js";
import { currentRequest, noteRequest } from "../../lib/request-scope.js";
import { RegistryError, type ErrorCode } from "../../registry/errors.js";
import { assertName } from "../../registry/references.js";
import type { Registry } from "../../registry/registry-service.js";
import { answering } from "../answering.js";
import type { Authorizer } from "../authorizer.js";
import { clientAddress } from "../client-address.js";
import { API_VERSION_HEADER } from "../error-response.js";
import type { FetchHandler, RequestInfo, RequestObserver } from "../fetch-handler.js";
import { HttpError, methodNotAllowed } from "../http-error.js";
import { publicBaseUrl, type PublicUrlOptions } from "../public-url.js";
import { routeTemplate } from "../route-template.js";
import { deleteBlob, getBlob, headBlob } from "./handlers/blobs.js";
import { listRepositories, listTags } from "./handlers/listings.js";
import { deleteManifest, getManifest, headManifest, putManifest } from "./handlers/manifests.js";
import { listReferrers } from "./handlers/referrers.js";
import { uploadHandlers, type ChunkLimits } from "./handlers/uploads.js";
import { byMethod, matchRoute, neededAccess, pushing, type Handler, type Route } from "./route-table.js";

// HEAD answers like GET, without the body (a fetch Response does not drop it by itself)
const base: Handler = async ({ request }) =>
  new Response(request.method === "HEAD" ? null : "{}", {
    status: 200,
    headers: { "Content-Type": "application/json", ...API_VERSION_HEADER },
  });

/** What a path parameter that is not even valid percent-encoding is reported as. */
const MALFORMED: Record<string, ErrorCode> = { name: "NAME_INVALID", uuid: "BLOB_UPLOAD_UNKNOWN" };

const deletesDisabled: Handler = async () => {
  throw new RegistryError("DELETES_DISABLED", "deletes are disabled on this registry");
};

function routes(chunks: ChunkLimits, deleteEnabled: boolean): Route[] {
  const uploads = uploadHandlers(chunks);
  const deletable = (handler: Handler) => (deleteEnabled ? handler : deletesDisabled);
  return [
    { pattern: /^\/v2\/?$/, methods: { GET: base, HEAD: base }, access: "authenticated" },
    { pattern: /^\/v2\/_catalog$/, methods: { GET: listRepositories }, access: "catalog" },
    { pattern: /^\/v2\/(?<name>.+)\/tags\/list$/, methods: { GET: listTags }, access: byMethod },
    {
      // an empty reference or digest names nothing: MANIFEST_UNKNOWN / BLOB_UNKNOWN, not "no such endpoint"
      pattern: /^\/v2\/(?<name>.+)\/manifests\/(?<reference>[^/]*)$/,
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
      pattern: /^\/v2\/(?<name>.+)\/blobs\/(?<digest>[^/]*)$/,
      methods: { GET: getBlob, HEAD: headBlob, DELETE: deletable(deleteBlob) },
      access: byMethod,
    },
    { pattern: /^\/v2\/(?<name>.+)\/referrers\/(?<digest>[^/]+)$/, methods: { GET: listReferrers }, access: byMethod },
  ];
}

/**
 * The registry as one request sees it. `origin` is called only when something needs it (an
 * event), so requests that record nothing pay nothing for it.
 */
export type RegistryForRequest = (origin: () => RequestOrigin) => Registry;

export interface RegistryAppOptions extends PublicUrlOptions {
  chunks: ChunkLimits;
  /** Answer DELETE of manifests, tags and blobs; otherwise 405 UNSUPPORTED. */
  deleteEnabled: boolean;
  /** Who may do what (required: there is no default, so a registry is never open by accident). */
  authorizer: Authorizer;
  observe?: RequestObserver;
}

/**
 * The registry's HTTP protocol (OCI Distribution / Docker Registry v2). Validates the path
 * (repository name first, so bad names never reach storage), checks access, dispatches by
 * route table, and turns every failure into the spec's error JSON.
 */
export function createRegistryApp(registryFor: RegistryForRequest, options: RegistryAppOptions): FetchHandler {
  const table = routes(options.chunks, options.deleteEnabled);
  return answering((request, info) => dispatch(table, registryFor, options, request, info), options.observe);
}

async function dispatch(
  table: Route[],
  registryFor: RegistryForRequest,
  options: RegistryAppOptions,
  request: Request,
  info: RequestInfo,
): Promise<Response> {
  const url = new URL(request.url);
  const found = matchRoute(table, url.pathname);
  if (!found) throw new HttpError(404, "UNSUPPORTED", "no such endpoint", {}, { path: url.pathname });
  noteRequest({ route: routeTemplate(found.route.pattern) });
  const handler = found.route.methods[request.method];
  if (!handler) throw methodNotAllowed(request.method, Object.keys(found.route.methods));
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
  const grant = await options.authorizer.authorize(request, neededAccess(found.route, request.method, params), info);
  noteRequest({ principal: grant.subject });
  const origin = (): RequestOrigin => ({
    requestId: currentRequest()?.id,
    actor: grant.subject,
    addr: clientAddress(request, info, options.trustProxy) ?? "",
    host: url.host,
    method: request.method,
    useragent: request.headers.get("user-agent") ?? "",
    baseUrl: publicBaseUrl(request, options),
  });
  return handler({ request, url, params, registry: registryFor(origin), grant });
}
