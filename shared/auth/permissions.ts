import { matchesPattern } from "../lib/repository-pattern.js";
import type { AccessRequest, Action } from "./access.js";
import { isValidName } from "../registry/references.js";
import { mergeAccess, parseScope, ScopeError } from "./scopes.js";

/**
 * What an identity may do: rules shaped like scopes, whose repository name is a pattern.
 * In a pattern `*` matches any run of characters, `/` included: `team/*` covers `team/app`
 * and `team/app/web` (not `team` itself), and `*` alone covers every repository.
 * The catalog is the rule `registry:catalog:*`. Nothing is allowed unless a rule says so.
 */
export type Rule = AccessRequest;

const PATTERN = /^[a-z0-9._/*-]+$/;
/** Every concrete action on a repository (what `*` stands for). */
export const REPOSITORY_ACTIONS: readonly Action[] = ["pull", "push", "delete"];

/** Everything: every repository with every action, and the catalog. */
export const ADMIN_RULES: Rule[] = [
  { type: "repository", name: "*", actions: ["*"] },
  { type: "registry", name: "catalog", actions: ["*"] },
];

/**
 * Parses a rule as the CLI takes it: a full scope (`repository:team/*:pull,push`,
 * `registry:catalog:*`) or the shorthands `team/*:pull,push` and `catalog`.
 */
export function parseRule(text: string): Rule {
  if (text === "catalog") return { type: "registry", name: "catalog", actions: ["*"] };
  const full = /^(repository|registry):/.test(text) ? text : `repository:${text}`;
  const rule = parseScope(full);
  if (rule.actions.length === 0) throw new ScopeError(`rule "${text}" names no action`);
  if (rule.type === "registry" && rule.name !== "catalog")
    throw new ScopeError(`unknown registry resource "${rule.name}"`);
  if (rule.type === "repository" && !PATTERN.test(rule.name))
    throw new ScopeError(`invalid repository pattern "${rule.name}"`);
  return rule;
}

/**
 * Managing identities and webhooks (the web UI's admin pages) is the resource
 * `registry:admin:*`. It is not a rule of its own: whoever may do everything to every
 * repository (`*:*`, what `user add --admin` and the bootstrap `admin` get) may administer.
 */
export const ADMIN_ACCESS: AccessRequest = { type: "registry", name: "admin", actions: ["*"] };

/** Whether the rules make their holder an administrator (see ADMIN_ACCESS). */
export function isAdministrator(rules: Rule[]): boolean {
  return rules.some((rule) => rule.type === "repository" && rule.name === "*" && rule.actions.includes("*"));
}

/** The actions the rules allow on one resource. */
function allowedActions(rules: Rule[], type: Rule["type"], name: string): Set<Action> {
  const allowed = new Set<Action>();
  if (type === ADMIN_ACCESS.type && name === ADMIN_ACCESS.name) {
    if (isAdministrator(rules)) allowed.add("*");
    return allowed;
  }
  for (const rule of rules) {
    if (rule.type === type && matchesPattern(rule.name, name)) rule.actions.forEach((a) => allowed.add(a));
  }
  return allowed;
}

/**
 * The token server's answer: of what was asked, what the rules allow. Resources that end up
 * with no action are left out (asking about an unknown repository is not an error).
 */
export function grantedAccess(requested: AccessRequest[], rules: Rule[]): AccessRequest[] {
  const granted: AccessRequest[] = [];
  for (const request of mergeAccess(requested)) {
    // a malformed repository name can never be addressed, so nothing is granted on it
    if (request.type === "repository" && !isValidName(request.name)) continue;
    const allowed = allowedActions(rules, request.type, request.name);
    const actions = new Set<Action>();
    for (const action of request.actions) {
      if (allowed.has(action) || allowed.has("*")) actions.add(action);
      else if (action === "*" && request.type === "repository") {
        // asked for everything, may do some: grant those
        REPOSITORY_ACTIONS.filter((a) => allowed.has(a)).forEach((a) => actions.add(a));
      }
    }
    if (actions.size > 0) granted.push({ type: request.type, name: request.name, actions: [...actions] });
  }
  return granted;
}

/** Whether a granted entry list allows one action ("*" in a grant covers every action). */
export function accessAllows(access: AccessRequest[], type: Rule["type"], name: string, action: Action): boolean {
  return access.some(
    (a) => a.type === type && a.name === name && (a.actions.includes(action) || a.actions.includes("*")),
  );
}

/** Whether the rules allow one action on one resource (the token server would grant it). */
export function rulesAllow(rules: Rule[], type: Rule["type"], name: string, action: Action): boolean {
  return grantedAccess([{ type, name, actions: [action] }], rules).length > 0;
}
