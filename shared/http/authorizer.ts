/**
 * The seam between the protocol and authentication: every route declares what it needs, the
 * app asks the Authorizer before running the handler, and handlers that need a second check
 * (a cross-repository mount reads the source repository) ask the returned Grant.
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

export interface Authorizer {
  /**
   * Identifies the caller and checks it may do everything in `needed` (an empty list: only
   * that it is authenticated, as `GET /v2/` asks). Throws a RegistryError (UNAUTHORIZED with
   * a challenge, or DENIED) otherwise.
   */
  authorize(request: Request, needed: AccessRequest[]): Promise<Grant>;
}

/** No authentication: everything is allowed. For tests of the protocol and trusted setups. */
export const openAccess: Authorizer = {
  authorize: async () => ({ subject: undefined, allows: () => true }),
};
