/** Hash routes: the server has one page at `/`, so any link works without server routes. */
export type Route =
  | { page: "repositories" }
  | { page: "repository"; name: string }
  | { page: "manifest"; name: string; reference: string }
  | { page: "admin" };

export function parseRoute(hash: string): Route {
  const [page, ...rest] = hash.replace(/^#\/?/, "").split("/");
  const name = rest[0] ? decodeURIComponent(rest[0]) : "";
  if (page === "repository" && name) return { page: "repository", name };
  if (page === "manifest" && name && rest[1]) return { page: "manifest", name, reference: decodeURIComponent(rest[1]) };
  if (page === "admin") return { page: "admin" };
  return { page: "repositories" };
}

export function href(route: Route): string {
  switch (route.page) {
    case "repositories":
      return "#/";
    case "repository":
      return `#/repository/${encodeURIComponent(route.name)}`;
    case "manifest":
      return `#/manifest/${encodeURIComponent(route.name)}/${encodeURIComponent(route.reference)}`;
    case "admin":
      return "#/admin";
  }
}
