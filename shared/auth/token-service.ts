import type { AccessRequest } from "./access.js";
import { AuthenticationError } from "./authentication-error.js";
import type { Authenticator, Identity } from "./identities.js";
import { grantedAccess } from "./permissions.js";
import type { RefreshTokens } from "./refresh-tokens.js";
import type { TokenIssuer } from "./token-issuer.js";

/** How the caller proves who it is (Docker token spec, and its OAuth2 form). */
export type Credentials =
  | { grant: "password"; username: string; password: string; clientAddress: string | undefined }
  | { grant: "refresh_token"; refreshToken: string }
  | { grant: "anonymous" };

export interface TokenGrantRequest {
  credentials: Credentials;
  scopes: AccessRequest[];
  clientId: string;
  /** Also hand out a refresh token (only with a password: `offline_token`, `access_type=offline`). */
  offline: boolean;
}

export interface TokenGrant {
  token: string;
  expiresIn: number;
  issuedAt: Date;
  /** What was granted: of what was asked, what the identity's rules allow. */
  access: AccessRequest[];
  refreshToken?: string;
}

/**
 * The token server's domain: authenticates the caller, grants the intersection of the scopes
 * asked for and the identity's rules (nothing for an unknown repository, which is not an
 * error), and signs an access token; a refresh token too when offline access was asked.
 */
export class TokenService {
  constructor(
    private readonly deps: {
      authenticator: Authenticator;
      refreshTokens: RefreshTokens;
      issuer: TokenIssuer;
      /** Who asks without credentials, when anonymous pull is on. */
      anonymous: Identity | undefined;
    },
  ) {}

  async grant(request: TokenGrantRequest): Promise<TokenGrant> {
    const identity = await this.identify(request.credentials);
    const access = grantedAccess(request.scopes, identity.rules);
    const issued = await this.deps.issuer.issue(identity.name, access);
    const grant: TokenGrant = { ...issued, access };
    if (request.credentials.grant === "password" && request.offline) {
      grant.refreshToken = await this.deps.refreshTokens.issue(identity, request.clientId);
    }
    return grant;
  }

  /** Signing out: the refresh token stops working. False when it was not (or no longer) valid. */
  revoke(refreshToken: string): Promise<boolean> {
    return this.deps.refreshTokens.revoke(refreshToken);
  }

  private async identify(credentials: Credentials): Promise<Identity> {
    switch (credentials.grant) {
      case "anonymous":
        if (this.deps.anonymous) return this.deps.anonymous;
        throw new AuthenticationError("authentication_required", "authentication required");
      case "password": {
        const { username, password, clientAddress } = credentials;
        const identity = await this.deps.authenticator.login(username, password, clientAddress);
        if (!identity) throw new AuthenticationError("invalid_credentials", "invalid username or password");
        return identity;
      }
      case "refresh_token": {
        const holder = await this.deps.refreshTokens.redeem(credentials.refreshToken);
        const identity = holder && (await this.deps.authenticator.current(holder.subject));
        // a changed password (new epoch) voids the refresh tokens issued before it
        if (!holder || !identity || identity.epoch !== holder.epoch)
          throw new AuthenticationError("invalid_refresh_token", "invalid refresh token");
        return identity;
      }
    }
  }
}
