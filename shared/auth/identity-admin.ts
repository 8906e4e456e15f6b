import { randomBytes } from "node:crypto";
import type { AuthStorage, IdentityKind, IdentityRecord } from "../storage/ports/identity-storage.js";
import { ANONYMOUS } from "./identities.js";
import { isLoginName } from "./login-name.js";
import { formatScope } from "./scopes.js";
import { parseRule } from "./permissions.js";
import { generateSecret, hashSecret } from "./passwords.js";

export const MIN_PASSWORD_LENGTH = 8;

export class IdentityError extends Error {
  override name = "IdentityError";
}

/** The login name is already a user's or a token's. */
export class NameTakenError extends IdentityError {
  constructor(name: string) {
    super(`the name "${name}" is taken`);
  }
}

export interface NewIdentity {
  name: string;
  /** Rules as text (`team/*:pull`, `repository:x:*`, `catalog`); validated here. */
  access: string[];
  expiresAt?: Date;
}

/**
 * Managing users and access tokens (the CLI and the admin bootstrap): validation, hashing,
 * and revoking refresh tokens whenever a secret changes or an identity goes.
 */
export class IdentityAdmin {
  constructor(private readonly storage: AuthStorage) {}

  async addUser(identity: NewIdentity, password: string): Promise<void> {
    if (password.length < MIN_PASSWORD_LENGTH)
      throw new IdentityError(`a password needs at least ${MIN_PASSWORD_LENGTH} characters`);
    await this.add("user", identity, password);
  }

  /** Creates an access token; returns its secret, which is stored only as a hash. */
  async createToken(identity: NewIdentity): Promise<string> {
    // the prefix lets secret scanners recognise a leaked token
    const secret = `stw_${generateSecret(32)}`;
    await this.add("token", identity, secret);
    return secret;
  }

  async setPassword(name: string, password: string): Promise<void> {
    if (password.length < MIN_PASSWORD_LENGTH)
      throw new IdentityError(`a password needs at least ${MIN_PASSWORD_LENGTH} characters`);
    const record = await this.find(name, "user");
    // a new epoch voids every refresh token issued under the old password
    const updated: IdentityRecord = { ...record, secretHash: await hashSecret(password), epoch: newEpoch() };
    if (!(await this.storage.identities.replace(updated))) throw new IdentityError(`no user "${name}"`);
    await this.storage.refreshTokens.deleteForSubject(name);
  }

  /** Removes a user or token and revokes its refresh tokens. */
  async remove(name: string, kind: IdentityKind): Promise<void> {
    await this.find(name, kind);
    await this.storage.identities.delete(name);
    await this.storage.refreshTokens.deleteForSubject(name);
  }

  /** Revokes every refresh token of an identity (logs it out of `docker login` sessions). */
  async logout(name: string): Promise<number> {
    return this.storage.refreshTokens.deleteForSubject(name);
  }

  list(kind: IdentityKind): Promise<IdentityRecord[]> {
    return this.storage.identities.list(kind);
  }

  /** Whether any user or access token exists. */
  async hasIdentities(): Promise<boolean> {
    return (await this.storage.identities.list()).length > 0;
  }

  private async add(kind: IdentityKind, identity: NewIdentity, secret: string): Promise<void> {
    if (!isLoginName(identity.name) || identity.name === ANONYMOUS) {
      throw new IdentityError(`invalid name "${identity.name}" (letters, digits, . _ @ -; not "${ANONYMOUS}")`);
    }
    const access = identity.access.map((text) => {
      try {
        return formatScope(parseRule(text));
      } catch (error) {
        throw new IdentityError((error as Error).message);
      }
    });
    const record: IdentityRecord = {
      kind,
      name: identity.name,
      secretHash: await hashSecret(secret),
      access,
      createdAt: new Date().toISOString(),
      epoch: newEpoch(),
    };
    if (identity.expiresAt) record.expiresAt = identity.expiresAt.toISOString();
    if (!(await this.storage.identities.create(record))) throw new NameTakenError(identity.name);
  }

  private async find(name: string, kind: IdentityKind): Promise<IdentityRecord> {
    const record = await this.storage.identities.get(name);
    if (!record || record.kind !== kind) throw new IdentityError(`no ${kind} "${name}"`);
    return record;
  }
}

function newEpoch(): string {
  return randomBytes(8).toString("hex");
}
