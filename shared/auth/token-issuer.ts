import { randomUUID } from "node:crypto";
import { SignJWT } from "jose";
import type { AccessRequest } from "./access.js";
import { ALGORITHM, type SigningKeys } from "./signing-keys.js";
import type { TokenSettings } from "./token-settings.js";

export interface IssuedToken {
  token: string;
  expiresIn: number;
  issuedAt: Date;
}

/**
 * Signs registry access tokens (Docker token spec): an ES256 JWT with a `kid` header and the
 * claims `iss sub aud exp nbf iat jti access`, `access` listing what was granted.
 */
export class TokenIssuer {
  constructor(
    private readonly keys: SigningKeys,
    private readonly settings: TokenSettings,
    private readonly now: () => number = Date.now,
  ) {}

  async issue(subject: string, access: AccessRequest[]): Promise<IssuedToken> {
    const { kid, key } = await this.keys.signingKey();
    const issuedAt = Math.floor(this.now() / 1000);
    const token = await new SignJWT({ access })
      .setProtectedHeader({ alg: ALGORITHM, kid, typ: "JWT" })
      .setIssuer(this.settings.issuer)
      .setSubject(subject)
      .setAudience(this.settings.service)
      .setIssuedAt(issuedAt)
      .setNotBefore(issuedAt)
      .setExpirationTime(issuedAt + this.settings.ttlSeconds)
      .setJti(randomUUID())
      .sign(key);
    return { token, expiresIn: this.settings.ttlSeconds, issuedAt: new Date(issuedAt * 1000) };
  }
}
