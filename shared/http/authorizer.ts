import type { AccessRequest, Grant } from "../auth/access.js";
import type { RequestInfo } from "./fetch-handler.js";

/**
 * The seam between the protocol and authentication: every route declares what it needs, the
 * app asks the Authorizer before running the handler, and handlers that need a second check
 * (a cross-repository mount reads the source repository) ask the returned Grant.
 */
export interface Authorizer {
  /**
   * Identifies the caller and checks it may do everything in `needed` (an empty list: only
   * that it is authenticated, as `GET /v2/` asks). Throws otherwise: an HttpError 401 with a
   * challenge, or a RegistryError (DENIED, TOOMANYREQUESTS).
   */
  authorize(request: Request, needed: AccessRequest[], info: RequestInfo): Promise<Grant>;
}

/** No authentication: everything is allowed. For tests of the protocol and trusted setups. */
export const openAccess: Authorizer = {
  authorize: async () => ({ subject: undefined, allows: () => true }),
};
