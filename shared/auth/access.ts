/**
 * The vocabulary of access control, shared by the token server, the registry's check of
 * every request and the identities' rules.
 */
export type Action = "pull" | "push" | "delete" | "*";

/** One entry of a Docker token scope: `repository:team/app:pull,push` or `registry:catalog:*`. */
export interface AccessRequest {
  type: "repository" | "registry";
  name: string;
  actions: Action[];
}

/** What the caller was found to be allowed. */
export interface Grant {
  /** The authenticated identity, if any (for events and logs). */
  subject: string | undefined;
  allows(type: AccessRequest["type"], name: string, action: Action): boolean;
}
