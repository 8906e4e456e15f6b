import { RegistryError } from "../../../registry/errors.js";
import type { Page } from "../../../storage/ports/metadata-store.js";
import { API_VERSION_HEADER } from "../../error-response.js";
import type { Handler } from "../route-table.js";

function pagination(url: URL): { n: number | undefined; last: string | undefined } {
  const n = url.searchParams.get("n");
  if (n !== null && !/^\d+$/.test(n))
    throw new RegistryError("PAGINATION_NUMBER_INVALID", "n must be a non-negative integer", { n });
  return { n: n === null ? undefined : Number(n), last: url.searchParams.get("last") ?? undefined };
}

/** A JSON page, with `Link: <...>; rel="next"` when more remain (RFC 5988, as the spec asks). */
function pageResponse(url: URL, page: Page<string>, n: number | undefined, body: object): Response {
  const headers: Record<string, string> = { "Content-Type": "application/json", ...API_VERSION_HEADER };
  const last = page.items.at(-1);
  if (page.more && last !== undefined) {
    const next = new URLSearchParams({ n: String(n ?? page.items.length), last });
    headers.Link = `<${url.pathname}?${next}>; rel="next"`;
  }
  return new Response(JSON.stringify(body), { status: 200, headers });
}

export const listTags: Handler = async ({ registry, params, url }) => {
  const name = params.name as string;
  const { n, last } = pagination(url);
  const page = await registry.catalog.tags(name, last, n);
  return pageResponse(url, page, n, { name, tags: page.items });
};

export const listRepositories: Handler = async ({ registry, url }) => {
  const { n, last } = pagination(url);
  const page = n === 0 ? { items: [], more: false } : await registry.catalog.repositories(last, n);
  return pageResponse(url, page, n, { repositories: page.items });
};
