import { errors, jwtVerify, type JWTHeaderParameters } from "jose";
import { LRUCache } from "lru-cache";
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
/** Verified tokens one instance remembers (about 1 KiB each). */
const MAX_REMEMBERED = 4096;

interface Remembered extends VerifiedToken {
  kid: string;
  /** `exp` in milliseconds: the entry is never used past it (no leeway). */
  expiresAt: number;
}

/**
 * Checks an access token on every registry request: ES256 only (so `alg: none` and an HMAC
 * keyed with our public key are refused before any key is used), a signature by one of our
 * keys found by `kid`, our issuer, this registry as audience, and the time claims within a
 * small leeway. `access` must be well formed; nothing else in the token is trusted.
 */
export class TokenVerifier {
  /**
   * Tokens already verified, until they expire: a client sends the same token with every
   * request, and the signature check is most of a manifest read's CPU. Bounded (least
   * recently used go first); an entry is also dropped once its signing key is no longer ours.
   */
  private readonly verified = new LRUCache<string, Remembered>({ max: MAX_REMEMBERED });

  constructor(
    private readonly keys: SigningKeys,
    private readonly settings: TokenSettings,
    private readonly now: () => number = Date.now,
  ) {}

  async verify(token: string): Promise<VerifiedToken> {
    const known = this.verified.get(token);
    if (known) {
      const unexpired = known.expiresAt > this.now();
      // the key list as loaded answers without waiting; only a re-read is awaited
      if (unexpired && (this.keys.isLoadedAndFresh(known.kid) || (await this.keys.verificationKey(known.kid)))) {
        return { subject: known.subject, access: known.access };
      }
      this.verified.delete(token);
    }
    try {
      let kid = "";
      const { payload } = await jwtVerify(
        token,
        (header: JWTHeaderParameters) => {
          kid = header.kid ?? "";
          return this.key(header);
        },
        {
          algorithms: [ALGORITHM],
          issuer: this.settings.issuer,
          audience: this.settings.service,
          clockTolerance: CLOCK_TOLERANCE_SECONDS,
          currentDate: new Date(this.now()),
          requiredClaims: ["sub", "exp", "nbf", "iat", "jti"],
        },
      );
      const verified = { subject: payload.sub as string, access: parseAccess(payload.access) };
      this.verified.set(token, { ...verified, kid, expiresAt: (payload.exp as number) * 1000 });
      return verified;
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
