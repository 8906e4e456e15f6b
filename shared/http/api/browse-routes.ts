import type { Grant } from "../../auth/access.js";
import { rulesAllow, type Rule } from "../../auth/permissions.js";
import type { BrowseService } from "../../registry/browse-service.js";
import { HttpError } from "../http-error.js";
import { jsonResponse, type ApiRoute } from "./api-route.js";

export interface BrowseRouteDeps {
  browse: BrowseService;
  /** The rules of the caller behind a grant (its identity's, or anonymous pull's). */
  rulesOf(grant: Grant): Promise<Rule[]>;
}

/**
 * The web UI's reads beyond the v2 API: repositories with figures (only those the caller may
 * pull: the same rules the token server applies), and tags with push times and sizes (pull).
 */
export function browseRoutes(deps: BrowseRouteDeps): ApiRoute[] {
  return [
    {
      pattern: /^\/api\/v1\/repositories$/,
      access: () => [],
      methods: {
        GET: async ({ url, grant }) => {
          const rules = await deps.rulesOf(grant);
          const visible = (name: string) => rulesAllow(rules, "repository", name, "pull");
          const prefix = url.searchParams.get("prefix") ?? "";
          const result = await deps.browse.repositories(visible, prefix, lastOf(url), pageSize(url));
          return jsonResponse(result);
        },
      },
    },
    {
      pattern: /^\/api\/v1\/repositories\/(?<name>.+)\/tags$/,
      access: (_method, params) => [{ type: "repository", name: params.name as string, actions: ["pull"] }],
      methods: {
        GET: async ({ url, params }) =>
          jsonResponse(await deps.browse.tags(params.name as string, lastOf(url), pageSize(url))),
      },
    },
  ];
}

function lastOf(url: URL): string | undefined {
  return url.searchParams.get("last") || undefined;
}

function pageSize(url: URL): number | undefined {
  const n = url.searchParams.get("n");
  if (n === null) return undefined;
  if (!/^\d{1,6}$/.test(n)) throw new HttpError(400, "PAGINATION_NUMBER_INVALID", "n must be a positive number");
  return Number(n);
}
