import { errors, jwtVerify, type JWTHeaderParameters } from "jose";
import type { AccessRequest, Action } from "./access.js";
import { ALGORITHM, type SigningKeys } from "./signing-keys.js";
import { CLOCK_TOLERANCE_SECONDS, type TokenSettings } from "./token-settings.js";

export interface VerifiedToken {
  subject: string;
  access: AccessRequest[];
}

/** A token that is not ours, not for us, not (or no longer) valid, or malformed. */
export class InvalidTokenError extends Error {
  override name = "InvalidTokenError";
}

const ACTIONS = new Set<string>(["pull", "push", "delete", "*"]);

/**
 * Checks an access token on every registry request: ES256 only (so `alg: none` and an HMAC
 * keyed with our public key are refused before any key is used), a signature by one of our
 * keys found by `kid`, our issuer, this registry as audience, and the time claims within a
 * small leeway. `access` must be well formed; nothing else in the token is trusted.
 */
export class TokenVerifier {
  constructor(
    private readonly keys: SigningKeys,
    private readonly settings: TokenSettings,
    private readonly now: () => number = Date.now,
  ) {}

  async verify(token: string): Promise<VerifiedToken> {
    try {
      const { payload } = await jwtVerify(token, (header: JWTHeaderParameters) => this.key(header), {
        algorithms: [ALGORITHM],
        issuer: this.settings.issuer,
        audience: this.settings.service,
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        currentDate: new Date(this.now()),
        requiredClaims: ["sub", "exp", "nbf", "iat", "jti"],
      });
      return { subject: payload.sub as string, access: parseAccess(payload.access) };
    } catch (error) {
      if (error instanceof InvalidTokenError) throw error;
      if (error instanceof errors.JOSEError) throw new InvalidTokenError(describe(error));
      throw error; // the key store failed: a server error, not a bad token
    }
  }

  private async key(header: JWTHeaderParameters) {
    if (!header.kid) throw new InvalidTokenError("token has no kid");
    const key = await this.keys.verificationKey(header.kid);
    if (!key) throw new InvalidTokenError("token signed by an unknown key");
    return key;
  }
}

function parseAccess(claim: unknown): AccessRequest[] {
  if (!Array.isArray(claim)) throw new InvalidTokenError("token has no access claim");
  return claim.map((entry: unknown) => {
    const { type, name, actions } = (entry ?? {}) as Record<string, unknown>;
    const valid =
      (type === "repository" || type === "registry") &&
      typeof name === "string" &&
      Array.isArray(actions) &&
      actions.every((a) => typeof a === "string" && ACTIONS.has(a));
    if (!valid) throw new InvalidTokenError("malformed access claim");
    return { type, name, actions: actions as Action[] };
  });
}

/** A short reason for the error detail (never the token itself). */
function describe(error: errors.JOSEError): string {
  if (error instanceof errors.JWTExpired) return "token expired";
  if (error instanceof errors.JWTClaimValidationFailed) return `token claim "${error.claim}" is not valid here`;
  if (error instanceof errors.JOSEAlgNotAllowed) return "token algorithm not allowed";
  if (error instanceof errors.JWSSignatureVerificationFailed) return "token signature does not verify";
  return "malformed token";
}
