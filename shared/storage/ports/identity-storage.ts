/**
 * Storage ports for authentication: who may log in (users and repository-scoped access
 * tokens), the refresh tokens handed out, and recent failed logins. The Azure Table
 * implementation is storage/azure/azure-identity-store.ts; secrets are stored only as hashes.
 */

export type IdentityKind = "user" | "token";

/** A user or an access token: one namespace, so a login name means one thing. */
export interface IdentityRecord {
  kind: IdentityKind;
  name: string;
  /** scrypt hash of the password or token secret (see auth/passwords.ts). */
  secretHash: string;
  /** What it may do, as scope-shaped rules (`repository:team/*:pull`, `registry:catalog:*`). */
  access: string[];
  createdAt: string;
  /** After this instant the identity can no longer log in or refresh (ISO 8601). */
  expiresAt?: string;
  /** Changes with the secret: refresh tokens issued under an older epoch are void. */
  epoch: string;
}

export interface IdentityStore {
  get(name: string): Promise<IdentityRecord | undefined>;
  /** Adds an identity; false when the name is taken. */
  create(record: IdentityRecord): Promise<boolean>;
  /** Replaces an existing identity; false when there is none by that name. */
  replace(record: IdentityRecord): Promise<boolean>;
  /** Removes an identity; false when there was none. */
  delete(name: string): Promise<boolean>;
  list(kind?: IdentityKind): Promise<IdentityRecord[]>;
}

/** A refresh token as stored: its id and the hash of its secret, never the secret. */
export interface RefreshTokenRecord {
  id: string;
  /** SHA-256 of the secret part (the secret is 256 random bits: no need for a slow hash). */
  secretHash: string;
  subject: string;
  /** The subject's epoch when issued (see IdentityRecord.epoch). */
  epoch: string;
  clientId: string;
  createdAt: string;
  expiresAt: string;
}

export interface RefreshTokenStore {
  create(record: RefreshTokenRecord): Promise<void>;
  get(id: string): Promise<RefreshTokenRecord | undefined>;
  delete(id: string): Promise<void>;
  /** Revokes every refresh token of a subject; returns how many there were. */
  deleteForSubject(subject: string): Promise<number>;
}

/** Recent login attempts not (yet) known good under one key (`user:<name>`, `address:<ip>`, ...). */
export interface LoginFailures {
  count: number;
  /** Milliseconds since the epoch. */
  lastFailureAt: number;
}

export interface LoginFailureStore {
  get(key: string): Promise<{ failures: LoginFailures; etag: string } | undefined>;
  /** Writes if `etag` still matches (undefined: only if absent); false when someone else wrote first. */
  save(key: string, failures: LoginFailures, etag: string | undefined): Promise<boolean>;
  clear(key: string): Promise<void>;
}

/** Where each identity has logged in from: its familiar addresses keep working while it is attacked. */
export interface FamiliarAddressStore {
  /** When `name` last logged in from `address` (milliseconds since the epoch), if ever. */
  lastSuccess(name: string, address: string): Promise<number | undefined>;
  remember(name: string, address: string, at: number): Promise<void>;
}

/** Marks that a deployment's first start has run (the admin bootstrap happens once, ever). */
export interface BootstrapMarker {
  isSet(): Promise<boolean>;
  /** Sets the marker; idempotent. */
  set(): Promise<void>;
}

/** Everything authentication stores. */
export interface AuthStorage {
  identities: IdentityStore;
  refreshTokens: RefreshTokenStore;
  loginFailures: LoginFailureStore;
  familiarAddresses: FamiliarAddressStore;
  bootstrap: BootstrapMarker;
}
