import type { IdentityKind, IdentityRecord, IdentityStore } from "../storage/ports/identity-storage.js";
import { parseRule, type Rule } from "./permissions.js";
import { RegistryError } from "../registry/errors.js";
import type { LoginThrottle } from "./login-throttle.js";
import { isLoginName } from "./login-name.js";
import { decoyHash, HashQueueFullError, verifySecret } from "./passwords.js";

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
 * under the failed-login throttle. Unknown names cost as much as wrong secrets.
 */
export class Authenticator {
  constructor(
    private readonly store: IdentityStore,
    private readonly throttle: LoginThrottle,
    private readonly now: () => number = Date.now,
  ) {}

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
    const attempt = await this.throttle.begin(name, record?.kind !== "token", address);
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
