import type { IdentityKind, IdentityRecord, IdentityStore } from "../storage/ports/identity-storage.js";
import { parseRule, type Rule } from "./permissions.js";
import { RegistryError } from "../registry/errors.js";
import type { LoginThrottle } from "./login-throttle.js";
import { isLoginName } from "./login-name.js";
import { decoyHash, HashQueueFullError, verifySecret } from "./passwords.js";
import { VerifiedCredentials } from "./verified-credentials.js";

/** Where attempts with names no identity can have are counted (not itself a valid name). */
const INVALID_NAME = "-";

/** Who a request acts as, once authenticated, and what it may do. */
export interface Identity {
  name: string;
  kind: IdentityKind | "anonymous";
  rules: Rule[];
  /** See IdentityRecord.epoch; empty for the anonymous identity. */
  epoch: string;
}

/** The subject of tokens issued without credentials (a reserved name: no user can take it). */
export const ANONYMOUS = "anonymous";

export function anonymousIdentity(patterns: string[]): Identity {
  return {
    name: ANONYMOUS,
    kind: "anonymous",
    epoch: "",
    rules: patterns.map((name) => ({ type: "repository", name, actions: ["pull"] })),
  };
}

/**
 * Logins: a user's password or an access token's secret, checked against its scrypt hash
 * under the failed-login throttle. Unknown names cost as much as wrong secrets. A secret that
 * verified within the last minute against the same stored credential is accepted without
 * scrypt and without counting an attempt, unless the throttle holds the name or address (see
 * verified-credentials.ts); anything else takes the full path.
 */
export class Authenticator {
  private readonly verified: VerifiedCredentials;

  constructor(
    private readonly store: IdentityStore,
    private readonly throttle: LoginThrottle,
    private readonly now: () => number = Date.now,
    verified?: VerifiedCredentials,
  ) {
    this.verified = verified ?? new VerifiedCredentials(now);
  }

  /**
   * The identity for these credentials, or undefined. Throws TOOMANYREQUESTS while throttled,
   * or when too many password checks already wait. The name is never logged: it may be a
   * mistyped password.
   */
  async login(name: string, secret: string, address: string | undefined): Promise<Identity | undefined> {
    if (!isLoginName(name)) {
      // no identity can have this name: count it against the address, and nothing reaches storage
      await (await this.throttle.begin(INVALID_NAME, false, address)).failed();
      return undefined;
    }
    const record = await this.store.get(name);
    // only the right secret can hit: a guess still pays scrypt and counts against the throttle,
    // and a hit is refused wherever the throttle would refuse the attempt (no lockout bypass)
    const nameWide = record?.kind !== "token";
    if (record && !this.expired(record) && this.verified.has(name, secret, credentialVersion(record))) {
      await this.throttle.admitVerified(name, nameWide, address);
      return toIdentity(record);
    }
    const attempt = await this.throttle.begin(name, nameWide, address);
    let matches: boolean;
    try {
      matches = await verifySecret(secret, record?.secretHash ?? (await decoyHash()));
    } catch (error) {
      await attempt.abandoned();
      if (error instanceof HashQueueFullError) {
        throw new RegistryError("TOOMANYREQUESTS", "too many logins at once; try again shortly", {
          retryAfterSeconds: 1,
        });
      }
      throw error;
    }
    if (!record || !matches || this.expired(record)) {
      await attempt.failed();
      return undefined;
    }
    await attempt.succeeded();
    this.verified.remember(name, secret, credentialVersion(record));
    return toIdentity(record);
  }

  /** The identity as it stands now (for a refresh), or undefined if removed or expired. */
  async current(name: string): Promise<Identity | undefined> {
    const record = await this.store.get(name);
    return record && !this.expired(record) ? toIdentity(record) : undefined;
  }

  private expired(record: IdentityRecord): boolean {
    return record.expiresAt !== undefined && Date.parse(record.expiresAt) <= this.now();
  }
}

/** Changes whenever the stored secret does (a new password or token secret gets a new epoch and hash). */
function credentialVersion(record: IdentityRecord): string {
  return `${record.epoch}\0${record.secretHash}`;
}

function toIdentity(record: IdentityRecord): Identity {
  const rules: Rule[] = [];
  for (const text of record.access) {
    try {
      rules.push(parseRule(text));
    } catch {
      // a rule that no longer parses allows nothing (deny by default)
    }
  }
  return { name: record.name, kind: record.kind, rules, epoch: record.epoch };
}
