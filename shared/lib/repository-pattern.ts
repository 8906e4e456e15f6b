/**
 * Repository name patterns, as access rules and webhook filters write them: `*` matches any
 * run of characters, `/` included (`team/*` covers `team/app` and `team/app/web`, not `team`).
 */
export function matchesPattern(pattern: string, name: string): boolean {
  if (!pattern.includes("*")) return pattern === name;
  const source = pattern
    .split("*")
    .map((part) => part.replace(/[.+?^${}()|[\]\\/-]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${source}$`).test(name);
}
