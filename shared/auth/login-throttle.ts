import { RegistryError } from "../registry/errors.js";
import type { LoginFailures, LoginFailureStore } from "../storage/ports/identity-storage.js";

export interface ThrottlePolicy {
  /** Failed logins per user name allowed before delays start (an address gets four times as many). */
  maxFailures: number;
  /** The longest delay between attempts once throttled. */
  lockoutSeconds: number;
}

/** Keys a login is throttled under: its name, and where it comes from when that is known. */
export function throttleKeys(name: string, address: string | undefined): { key: string; free: number }[] {
  return address === undefined
    ? [{ key: `user:${name}`, free: 1 }]
    : [
        { key: `user:${name}`, free: 1 },
        { key: `address:${address}`, free: 4 },
      ];
}

/**
 * Failed-login throttling, kept in storage so every instance sees the same count (one
 * instance per request is the norm on Functions). Past the free attempts each further
 * failure doubles the wait before the next attempt, up to `lockoutSeconds`; a quiet hour
 * (or lockout, if longer) forgets the failures, and a successful login clears its name.
 * A locked-out attempt is refused before its password is even checked, and is not counted.
 */
export class LoginThrottle {
  private readonly forgetAfterMs: number;

  constructor(
    private readonly store: LoginFailureStore,
    private readonly policy: ThrottlePolicy,
    private readonly now: () => number = Date.now,
  ) {
    this.forgetAfterMs = Math.max(3_600_000, policy.lockoutSeconds * 1000);
  }

  /** Throws TOOMANYREQUESTS (with the seconds to wait) while any key is locked out. */
  async check(keys: { key: string; free: number }[]): Promise<void> {
    const waits = await Promise.all(
      keys.map(async ({ key, free }) => this.waitMs((await this.store.get(key))?.failures, free)),
    );
    const wait = Math.max(0, ...waits);
    if (wait > 0) {
      throw new RegistryError("TOOMANYREQUESTS", "too many failed logins; try again later", {
        retryAfterSeconds: Math.ceil(wait / 1000),
      });
    }
  }

  async failed(keys: { key: string }[]): Promise<void> {
    await Promise.all(keys.map(({ key }) => this.count(key)));
  }

  async succeeded(keys: { key: string }[]): Promise<void> {
    // only the name is cleared: one good login must not wipe an address's record of guesses
    const [user] = keys;
    if (user) await this.store.clear(user.key);
  }

  private waitMs(failures: LoginFailures | undefined, freeFactor: number): number {
    if (!failures || this.forgotten(failures)) return 0;
    const over = failures.count - this.policy.maxFailures * freeFactor;
    if (over <= 0) return 0;
    const delayMs = Math.min(2 ** Math.min(over, 30) * 1000, this.policy.lockoutSeconds * 1000);
    return failures.lastFailureAt + delayMs - this.now();
  }

  private forgotten(failures: LoginFailures): boolean {
    return this.now() - failures.lastFailureAt > this.forgetAfterMs;
  }

  /** Read-modify-write guarded by the row's etag; a few retries cover concurrent failures. */
  private async count(key: string): Promise<void> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const current = await this.store.get(key);
      const previous = current && !this.forgotten(current.failures) ? current.failures.count : 0;
      if (await this.store.save(key, { count: previous + 1, lastFailureAt: this.now() }, current?.etag)) return;
    }
  }
}
