import { createHmac, randomBytes } from "node:crypto";
import { LRUCache } from "lru-cache";

/** How long a verified login is taken on trust without scrypt (per instance). */
export const VERIFIED_LOGIN_TTL_MS = 60_000;
/** Logins one instance remembers at most (a few hundred bytes each). */
const MAX_ENTRIES = 10_000;

/**
 * Recently verified logins of this instance, so the clients that ask for a token per
 * repository (docker, podman, skopeo send Basic credentials every time) do not pay scrypt
 * each time. Only successes are kept; a failure is never remembered, so guessing costs what
 * it always did (and goes through the throttle).
 *
 * An entry is keyed by HMAC-SHA256(name, secret) under a random key made at start-up and never
 * stored, so the secret is in no map and a heap dump gives nothing to test guesses against.
 * It also holds the version of the stored credential it was checked against (epoch and hash):
 * the caller reads the identity record on every login, so a changed secret, a removed or
 * expired identity stops matching at once on every instance; the TTL only bounds how long a
 * secret is trusted without being hashed again.
 */
export class VerifiedCredentials {
  private readonly key = randomBytes(32);
  private readonly entries = new LRUCache<string, { version: string; until: number }>({ max: MAX_ENTRIES });

  constructor(
    private readonly now: () => number,
    private readonly ttlMs = VERIFIED_LOGIN_TTL_MS,
  ) {}

  /** True when `name` logged in with exactly `secret` against this `version` of its credential recently. */
  has(name: string, secret: string, version: string): boolean {
    const id = this.fingerprint(name, secret);
    const entry = this.entries.get(id);
    if (!entry) return false;
    if (entry.version === version && entry.until > this.now()) return true;
    this.entries.delete(id);
    return false;
  }

  remember(name: string, secret: string, version: string): void {
    if (this.ttlMs <= 0) return;
    this.entries.set(this.fingerprint(name, secret), { version, until: this.now() + this.ttlMs });
  }

  private fingerprint(name: string, secret: string): string {
    // NUL cannot occur in a login name, so (name, secret) pairs cannot collide by concatenation
    return createHmac("sha256", this.key).update(name).update("\0").update(secret.normalize("NFC")).digest("base64url");
  }
}
