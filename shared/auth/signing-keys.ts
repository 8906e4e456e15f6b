import { hkdfSync } from "node:crypto";
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK } from "jose";
import type { MacKeys } from "../lib/hmac-sealer.js";
import type { SecretStore, SecretVersion } from "../storage/ports/secret-store.js";

export const ALGORITHM = "ES256";

type Key = Awaited<ReturnType<typeof importJWK>>;

interface LoadedKey {
  kid: string;
  createdOn: Date;
  privateKey: Key;
  publicKey: Key;
  publicJwk: JWK;
  /** The private scalar: input keying material for keys derived from this one (macKeys). */
  secret: Buffer;
}

interface KeyRing {
  keys: Map<string, LoadedKey>;
  /** The newest key: the one new tokens are signed with. */
  current: LoadedKey;
  loadedAt: number;
}

export interface SigningKeysOptions {
  /** The secret whose versions are the keys (one ES256 private JWK per version). */
  secretName: string;
  /** Lifetime of the tokens signed: a replaced key stays valid this long (plus slack). */
  tokenTtlSeconds: number;
  /** A replaced key keeps verifying at least this long too (what macKeys sealed with it: uploads in progress). */
  retainSeconds?: number;
  /** How often the key list is re-read, so a rotation reaches every instance. */
  refreshSeconds?: number;
  now?: () => number;
}

/** Re-reading on an unknown `kid` is limited to this often: a forged kid must not hammer the vault. */
const UNKNOWN_KID_RELOAD_MS = 10_000;
const CLOCK_SLACK_MS = 60_000;

/**
 * The token signing keys, kept as the versions of one secret: the newest signs, every version
 * whose tokens may still be alive verifies. Rotation adds a version; the key it replaces is
 * kept until tokens it signed have expired, counting the time other instances may still sign
 * with it before they re-read the list. Disabling a version in Key Vault withdraws that key.
 * The first instance to find no key generates one; instances that race both add a version,
 * both versions verify, and all of them sign with the newest.
 */
export class SigningKeys {
  private ring: KeyRing | undefined;
  private loading: Promise<KeyRing> | undefined;
  private lastUnknownReload = 0;
  private readonly refreshMs: number;
  private readonly now: () => number;

  constructor(
    private readonly secrets: SecretStore,
    private readonly options: SigningKeysOptions,
  ) {
    this.refreshMs = (options.refreshSeconds ?? 300) * 1000;
    this.now = options.now ?? Date.now;
  }

  /** The key new tokens are signed with. */
  async signingKey(): Promise<{ kid: string; key: Key }> {
    const { current } = await this.current();
    return { kid: current.kid, key: current.privateKey };
  }

  /** The public key for a `kid`, re-reading the list once when it is unknown (a rotation elsewhere). */
  async verificationKey(kid: string): Promise<Key | undefined> {
    return (await this.find(kid))?.publicKey;
  }

  /**
   * HMAC keys derived (HKDF-SHA256) from the signing keys for one `purpose`: every instance
   * derives the same ones, and they rotate with the signing keys; the kid names the key used.
   */
  macKeys(purpose: string): MacKeys {
    const derived = new Map<string, Uint8Array>();
    const derive = (key: LoadedKey) => {
      let mac = derived.get(key.kid);
      if (!mac) derived.set(key.kid, (mac = new Uint8Array(hkdfSync("sha256", key.secret, "", purpose, 32))));
      return mac;
    };
    return {
      current: async () => {
        const { current } = await this.current();
        return { id: current.kid, key: derive(current) };
      },
      find: async (kid) => {
        const key = await this.find(kid);
        return key && derive(key);
      },
    };
  }

  /**
   * Whether `kid` is among the keys loaded, answered without waiting while the list needs no
   * re-read (the check each request with a remembered token makes). False: ask verificationKey.
   */
  isLoadedAndFresh(kid: string): boolean {
    const ring = this.ring;
    return ring !== undefined && this.now() - ring.loadedAt < this.refreshMs && ring.keys.has(kid);
  }

  /** The key for a `kid`, re-reading the list once when it is unknown (a rotation elsewhere). */
  private async find(kid: string): Promise<LoadedKey | undefined> {
    const known = (await this.current()).keys.get(kid);
    if (known) return known;
    if (this.now() - this.lastUnknownReload < UNKNOWN_KID_RELOAD_MS) return undefined;
    this.lastUnknownReload = this.now();
    return (await this.reload()).keys.get(kid);
  }

  /** The public keys as a JSON Web Key Set, for anyone verifying our tokens. */
  async jwks(): Promise<{ keys: JWK[] }> {
    return { keys: [...(await this.current()).keys.values()].map((k) => k.publicJwk) };
  }

  /** Adds a new key; it signs from now on (other instances switch within `refreshSeconds`). */
  async rotate(): Promise<string> {
    await this.loading?.catch(() => undefined); // a load already under way would not see the new key
    await this.secrets.add(this.options.secretName, await newPrivateJwk());
    return (await this.reload()).current.kid;
  }

  private async current(): Promise<KeyRing> {
    const ring = this.ring;
    if (!ring) return this.reload();
    if (this.now() - ring.loadedAt < this.refreshMs) return ring;
    // stale: re-read, but keep serving the keys we have if the vault is unreachable
    return this.reload().catch((error: unknown) => {
      console.error(`signing keys: refresh failed, keeping the loaded keys: ${(error as Error).message}`);
      this.ring = { ...ring, loadedAt: this.now() };
      return this.ring;
    });
  }

  /** One load at a time, shared by everyone waiting for it. */
  private reload(): Promise<KeyRing> {
    this.loading ??= this.load()
      .then((ring) => (this.ring = ring))
      .finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async load(): Promise<KeyRing> {
    const name = this.options.secretName;
    let versions = await this.usableVersions();
    if (versions.length === 0) {
      await this.secrets.add(name, await newPrivateJwk());
      versions = await this.usableVersions();
    }
    const needed = versions.filter((version, i) => {
      const successor = versions[i + 1];
      return !successor || this.now() < successor.createdOn.getTime() + this.retentionMs();
    });
    const keys = await Promise.all(
      needed.map(async (v) => loadKey(await this.secrets.get(name, v.version), v.createdOn)),
    );
    const current = keys[keys.length - 1];
    if (!current) throw new Error(`no usable signing key in secret "${name}"`);
    return { keys: new Map(keys.map((k) => [k.kid, k])), current, loadedAt: this.now() };
  }

  /** Enabled versions, oldest first. */
  private async usableVersions(): Promise<SecretVersion[]> {
    const versions = await this.secrets.versions(this.options.secretName);
    return versions
      .filter((v) => v.enabled)
      .sort((a, b) => a.createdOn.getTime() - b.createdOn.getTime() || a.version.localeCompare(b.version));
  }

  /** How long a replaced key must keep verifying: other instances may sign with it until they refresh. */
  private retentionMs(): number {
    const seconds = Math.max(this.options.tokenTtlSeconds, this.options.retainSeconds ?? 0);
    return seconds * 1000 + this.refreshMs + CLOCK_SLACK_MS;
  }
}

async function newPrivateJwk(): Promise<string> {
  const { privateKey } = await generateKeyPair(ALGORITHM, { extractable: true });
  return JSON.stringify(await exportJWK(privateKey));
}

async function loadKey(stored: string, createdOn: Date): Promise<LoadedKey> {
  const jwk = JSON.parse(stored) as JWK;
  if (jwk.kty !== "EC" || jwk.crv !== "P-256" || !jwk.d)
    throw new Error("a signing key is not an EC P-256 private key");
  const publicPart: JWK = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
  // the kid is the key's RFC 7638 thumbprint: stable, and derived from nothing secret
  const kid = await calculateJwkThumbprint(publicPart);
  const publicJwk: JWK = { ...publicPart, kid, alg: ALGORITHM, use: "sig" };
  return {
    kid,
    createdOn,
    privateKey: await importJWK({ ...jwk, alg: ALGORITHM }, ALGORITHM),
    publicKey: await importJWK(publicJwk, ALGORITHM),
    publicJwk,
    secret: Buffer.from(jwk.d, "base64url"),
  };
}
