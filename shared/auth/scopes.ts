import type { AccessRequest, Action } from "./access.js";

/**
 * Docker token scopes: `repository:team/app:pull,push`, `registry:catalog:*`.
 * The grammar is `type[(class)]:name:actions`; the name may itself contain `:` (a registry
 * host with a port), so the type ends at the first colon and the actions start after the last.
 */
const ACTIONS: readonly string[] = ["pull", "push", "delete", "*"];

export class ScopeError extends Error {
  override name = "ScopeError";
}

/** Parses one scope; throws ScopeError on anything but a repository or registry scope. */
export function parseScope(scope: string): AccessRequest {
  const first = scope.indexOf(":");
  const last = scope.lastIndexOf(":");
  if (first <= 0 || last === first) throw new ScopeError(`malformed scope "${scope}"`);
  const type = scope.slice(0, first).replace(/\(.*\)$/, ""); // `repository(plugin)` is a repository
  const name = scope.slice(first + 1, last);
  const actions = scope
    .slice(last + 1)
    .split(",")
    .filter((a) => a !== "");
  if (type !== "repository" && type !== "registry") throw new ScopeError(`unsupported scope type "${type}"`);
  if (name === "") throw new ScopeError(`scope without a name "${scope}"`);
  const unknown = actions.find((a) => !ACTIONS.includes(a));
  if (unknown !== undefined) throw new ScopeError(`unknown action "${unknown}"`);
  return { type, name, actions: [...new Set(actions)] as Action[] };
}

/** Parses the scopes of a token request: repeated parameters, each possibly space-separated. */
export function parseScopes(values: string[]): AccessRequest[] {
  return values.flatMap((value) => value.split(" ").filter((s) => s !== "")).map(parseScope);
}

export function formatScope(access: AccessRequest): string {
  return `${access.type}:${access.name}:${access.actions.join(",")}`;
}

/** Several scopes the way a challenge carries them: one space-separated string. */
export function formatScopes(access: AccessRequest[]): string {
  return access.map(formatScope).join(" ");
}

/** Merges entries for the same resource, so a token lists each repository once. */
export function mergeAccess(entries: AccessRequest[]): AccessRequest[] {
  const merged = new Map<string, AccessRequest>();
  for (const entry of entries) {
    const key = `${entry.type}:${entry.name}`;
    const existing = merged.get(key);
    if (existing) existing.actions = [...new Set([...existing.actions, ...entry.actions])];
    else merged.set(key, { ...entry, actions: [...entry.actions] });
  }
  return [...merged.values()];
}
