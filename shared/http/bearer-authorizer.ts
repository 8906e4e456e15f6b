import type { AccessRequest, Grant } from "../auth/access.js";
import type { Identity } from "../auth/identities.js";
import { accessAllows, grantedAccess, rulesAllow, type Rule } from "../auth/permissions.js";
import { formatScopes } from "../auth/scopes.js";
import type { TokenSettings } from "../auth/token-settings.js";
import { InvalidTokenError, type TokenVerifier } from "../auth/token-verifier.js";
import type { Authorizer } from "./authorizer.js";
import { basicCredentials } from "./basic-credentials.js";
import { clientAddress } from "./client-address.js";
import type { RequestInfo } from "./fetch-handler.js";
import { HttpError } from "./http-error.js";
import { RegistryError } from "../registry/errors.js";
import { tokenUrl, type PublicUrlOptions } from "./public-url.js";

export interface BearerAuthorizerOptions extends PublicUrlOptions {
  settings: TokenSettings;
  /** Rules for requests without credentials (anonymous pull); empty: none. */
  anonymousRules: Rule[];
  /**
   * Checks a user name and password (or access token secret) sent as `Authorization: Basic`:
   * the token endpoint's own login, with its throttle. Unset: Basic is refused like a bad token.
   */
  login?: (name: string, secret: string, clientAddress: string | undefined) => Promise<Identity | undefined>;
}

/** A browser navigating (not a script or a registry client): it can answer a Basic challenge, not a Bearer one. */
function isBrowserNavigation(request: Request): boolean {
  return /\btext\/html\b/i.test(request.headers.get("accept") ?? "");
}

/**
 * The registry side of Docker token auth. Every request must carry an access token from our
 * token endpoint whose `access` covers exactly what the route needs; otherwise it gets 401
 * and a challenge naming the token URL, the service and the scope to ask for
 * (`error="invalid_token"` for a bad token, `error="insufficient_scope"` for a good one that
 * does not cover the request, so the client asks again for the right scope). A request
 * without credentials may pull where anonymous pull is on; `GET /v2/` always challenges,
 * so clients learn where to get a token.
 *
 * People browse too: `curl -u user:pass` and a browser send `Authorization: Basic`, checked per
 * request with the same login (identities, throttle) and the same rules as the token endpoint.
 * A browser (it asks for `text/html`) is challenged with Basic, which it can answer; every
 * registry client still gets exactly the Bearer challenge.
 */
export class BearerAuthorizer implements Authorizer {
  constructor(
    private readonly verifier: TokenVerifier,
    private readonly options: BearerAuthorizerOptions,
  ) {}

  async authorize(request: Request, needed: AccessRequest[], info: RequestInfo): Promise<Grant> {
    const header = request.headers.get("authorization");
    if (header !== null && /^Basic /i.test(header) && this.options.login) {
      return this.authorizeBasic(request, header, needed, info);
    }
    const bearer = header ? /^Bearer +([A-Za-z0-9._~+/=-]+) *$/i.exec(header) : null;
    if (!bearer) {
      if (header === null && this.anonymousMayDo(needed)) return this.anonymousGrant();
      throw this.challenge(request, needed, "authentication required");
    }
    let access: AccessRequest[];
    let subject: string;
    try {
      ({ access, subject } = await this.verifier.verify(bearer[1] as string));
    } catch (error) {
      if (!(error instanceof InvalidTokenError)) throw error;
      throw this.challenge(request, needed, `invalid access token: ${error.message}`, "invalid_token");
    }
    const allows: Grant["allows"] = (type, name, action) => accessAllows(access, type, name, action);
    for (const entry of needed) {
      if (!entry.actions.every((action) => allows(entry.type, entry.name, action))) {
        throw this.challenge(request, needed, "insufficient scope", "insufficient_scope");
      }
    }
    return { subject, allows };
  }

  /** Basic credentials: a login per request (the authenticator caches recent successes). */
  private async authorizeBasic(
    request: Request,
    header: string,
    needed: AccessRequest[],
    info: RequestInfo,
  ): Promise<Grant> {
    const credentials = basicCredentials(header);
    const address = clientAddress(request, info, this.options.trustProxy);
    const identity = credentials && (await this.options.login?.(credentials.username, credentials.password, address));
    if (!identity) throw this.basicChallenge(needed, "invalid username or password");
    const allows: Grant["allows"] = (type, name, action) => rulesAllow(identity.rules, type, name, action);
    for (const entry of needed) {
      // the caller is known: more credentials would not help, so no challenge
      if (!entry.actions.every((action) => allows(entry.type, entry.name, action)))
        throw new RegistryError("DENIED", "requested access to the resource is denied");
    }
    return { subject: identity.name, allows };
  }

  private anonymousMayDo(needed: AccessRequest[]): boolean {
    if (needed.length === 0 || this.options.anonymousRules.length === 0) return false;
    const granted = grantedAccess(needed, this.options.anonymousRules);
    return needed.every((entry) =>
      entry.actions.every((action) => accessAllows(granted, entry.type, entry.name, action)),
    );
  }

  private anonymousGrant(): Grant {
    const rules = this.options.anonymousRules;
    return {
      subject: undefined,
      allows: (type, name, action) => grantedAccess([{ type, name, actions: [action] }], rules).length > 0,
    };
  }

  private challenge(request: Request, needed: AccessRequest[], message: string, error?: string): HttpError {
    if (this.options.login && isBrowserNavigation(request)) return this.basicChallenge(needed, message);
    const params: [string, string][] = [
      ["realm", tokenUrl(request, this.options)],
      ["service", this.options.settings.service],
    ];
    if (needed.length > 0) params.push(["scope", formatScopes(needed)]);
    if (error) params.push(["error", error]);
    const challenge = `Bearer ${params.map(([k, v]) => `${k}="${v.replace(/["\\]/g, "\\$&")}"`).join(",")}`;
    return new HttpError(401, "UNAUTHORIZED", message, { "WWW-Authenticate": challenge }, describeNeeded(needed));
  }

  private basicChallenge(needed: AccessRequest[], message: string): HttpError {
    const challenge = `Basic realm="${this.options.settings.service}",charset="UTF-8"`;
    return new HttpError(401, "UNAUTHORIZED", message, { "WWW-Authenticate": challenge }, describeNeeded(needed));
  }
}

/** The error detail names what was needed, in distribution's shape. */
function describeNeeded(needed: AccessRequest[]) {
  return needed.flatMap((entry) =>
    entry.actions.map((action) => ({ Type: entry.type, Name: entry.name, Action: action })),
  );
}
