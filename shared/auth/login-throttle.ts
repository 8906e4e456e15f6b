import { KeyedLock, LockBusyError } from "../lib/keyed-lock.js";
import { RegistryError } from "../registry/errors.js";
import type { FamiliarAddressStore, LoginFailures, LoginFailureStore } from "../storage/ports/identity-storage.js";

export interface ThrottlePolicy {
  /** Attempts allowed per user name (and per name and address) before delays start; an address gets four times as many. */
  maxFailures: number;
  /** The longest delay between attempts once throttled. */
  lockoutSeconds: number;
}

/** A login attempt that was let through to the password check: say how it ended. */
export interface Attempt {
  succeeded(): Promise<void>;
  /** The failure was counted when the attempt was let through: nothing more to write. */
  failed(): Promise<void>;
  /** The check never ran (the hashing queue was full): the attempt does not count. */
  abandoned(): Promise<void>;
}

interface Counter {
  key: string;
  /** Multiple of maxFailures this counter allows. */
  free: number;
  /** On success: forget it (this name from this address), or take back only this attempt (shared counters). */
  onSuccess: "clear" | "undo";
}

/** Read-modify-write retries on one counter before giving up, refusing the attempt (fail closed). */
const MAX_CONFLICTS = 8;
/** Callers one process lets wait for one counter; past that, refused at once. */
const MAX_WAITING = 64;
/** How long an address stays familiar to a name after its last successful login from there. */
const FAMILIAR_MS = 90 * 86_400_000;

/**
 * Failed-login throttling that holds under parallel attack and does not lock out the owner
 * (the "smart lockout" model of Microsoft Entra ID, kept in storage so every instance counts
 * the same attempts):
 *
 * - An attempt is counted *before* its password is checked, under an etag guard (and one at
 *   a time per counter within a process), and let through only if every counter it belongs
 *   to is below its limit. So parallel guesses cannot outrun the count: at most `maxFailures`
 *   passwords are checked per counter, whatever the concurrency. A success clears the
 *   counters of this name it was held to, and takes its own attempt back from the address's.
 * - Counters: this name from this address; this address for any name (4x); and this name
 *   from every address it has never logged in from. An address the name logged in from
 *   before is "familiar" and is not held by the name-wide counter, so an attacker who keeps
 *   failing from elsewhere cannot lock the owner out of their usual machines.
 * - Access tokens are not held by a name-wide counter at all: their secrets are 256 random
 *   bits, so guessing is hopeless and a pull secret's name must not be a lockout switch.
 * - Past a counter's free attempts, each further one waits twice as long, up to
 *   `lockoutSeconds`; an hour without attempts (or the lockout, if longer) forgets them.
 */
export class LoginThrottle {
  private readonly forgetAfterMs: number;
  private readonly lock = new KeyedLock(MAX_WAITING);

  constructor(
    private readonly store: LoginFailureStore,
    private readonly familiar: FamiliarAddressStore,
    private readonly policy: ThrottlePolicy,
    private readonly now: () => number = Date.now,
  ) {
    this.forgetAfterMs = Math.max(3_600_000, policy.lockoutSeconds * 1000);
  }

  /**
   * Counts an attempt for `name` from `address`, or throws TOOMANYREQUESTS (with the seconds
   * to wait) if any counter is at its limit. `nameWide`: also hold the name to its counter
   * across unfamiliar addresses (users and unknown names; not access tokens).
   */
  async begin(name: string, nameWide: boolean, address: string | undefined): Promise<Attempt> {
    const counters = addressCounters(name, address);
    if (nameWide && !(address !== undefined && (await this.isFamiliar(name, address))))
      counters.push(nameCounter(name));
    const reserved = await Promise.allSettled(counters.map((counter) => this.reserve(counter)));
    const refused = reserved.find((r): r is PromiseRejectedResult => r.status === "rejected");
    const taken = counters.filter((_, i) => reserved[i]?.status === "fulfilled");
    if (refused) {
      await Promise.all(taken.map((counter) => this.undo(counter.key)));
      throw refused.reason;
    }
    return {
      succeeded: async () => {
        await Promise.all(taken.map((c) => (c.onSuccess === "clear" ? this.store.clear(c.key) : this.undo(c.key))));
        if (address !== undefined) await this.familiar.remember(name, address, this.now());
      },
      failed: async () => undefined,
      abandoned: async () => void (await Promise.all(taken.map((c) => this.undo(c.key)))),
    };
  }

  /**
   * For a login whose secret is already known to be right (verified-credentials.ts): refuses
   * it (TOOMANYREQUESTS) wherever `begin` would, so a throttled name or address stays
   * throttled for the right password too; otherwise clears this name's counts as a success
   * does. Counts nothing, so logins that hit the cache cannot pile up reservations that would
   * throttle each other.
   */
  async admitVerified(name: string, nameWide: boolean, address: string | undefined): Promise<void> {
    const counters = addressCounters(name, address);
    if (nameWide) counters.push(nameCounter(name));
    const rows = await Promise.all(counters.map((counter) => this.store.get(counter.key)));
    const toClear: string[] = [];
    for (const [i, counter] of counters.entries()) {
      const row = rows[i];
      const failures = row && !this.forgotten(row.failures) ? row.failures : undefined;
      if (!failures || failures.count <= 0) continue;
      // as in begin: the name-wide counter does not hold an address the name logged in from
      if (counter === counters.at(-1) && nameWide && address !== undefined && (await this.isFamiliar(name, address)))
        continue;
      const wait = this.waitMs(failures, counter.free);
      if (wait > 0) throw throttled(wait);
      if (counter.onSuccess === "clear") toClear.push(counter.key);
    }
    await Promise.all(toClear.map((key) => this.store.clear(key)));
  }

  private async isFamiliar(name: string, address: string): Promise<boolean> {
    const last = await this.familiar.lastSuccess(name, address);
    return last !== undefined && this.now() - last < FAMILIAR_MS;
  }

  /** Adds one to the counter if it is below its limit; throws TOOMANYREQUESTS if not (or if it stays contended). */
  private async reserve({ key, free }: Counter): Promise<void> {
    await this.locked(key, async () => {
      for (let attempt = 0; attempt < MAX_CONFLICTS; attempt++) {
        const current = await this.store.get(key);
        const failures = current && !this.forgotten(current.failures) ? current.failures : undefined;
        const wait = this.waitMs(failures, free);
        if (wait > 0) throw throttled(wait);
        const next = { count: (failures?.count ?? 0) + 1, lastFailureAt: this.now() };
        if (await this.store.save(key, next, current?.etag)) return;
        await jitter();
      }
      throw throttled(1000);
    });
  }

  /** Takes one attempt back (it succeeded, or never ran). A lost race leaves it counted: the safe side. */
  private async undo(key: string): Promise<void> {
    await this.locked(key, async () => {
      for (let attempt = 0; attempt < MAX_CONFLICTS; attempt++) {
        const current = await this.store.get(key);
        if (!current || current.failures.count <= 0) return;
        const next = { ...current.failures, count: current.failures.count - 1 };
        if (await this.store.save(key, next, current.etag)) return;
        await jitter();
      }
    }).catch(() => undefined);
  }

  private async locked(key: string, work: () => Promise<void>): Promise<void> {
    try {
      await this.lock.run(key, work);
    } catch (error) {
      if (error instanceof LockBusyError) throw throttled(1000);
      throw error;
    }
  }

  /** How long the next attempt must wait: none while below the free attempts, then doubling. */
  private waitMs(failures: LoginFailures | undefined, free: number): number {
    if (!failures) return 0;
    const over = failures.count - this.policy.maxFailures * free;
    if (over < 0) return 0;
    const delayMs = Math.min(2 ** Math.min(over, 30) * 1000, this.policy.lockoutSeconds * 1000);
    return failures.lastFailureAt + delayMs - this.now();
  }

  private forgotten(failures: LoginFailures): boolean {
    return this.now() - failures.lastFailureAt > this.forgetAfterMs;
  }
}

/** This name from this address, and this address for any name (4x). */
function addressCounters(name: string, address: string | undefined): Counter[] {
  if (address === undefined) return [];
  return [
    { key: `pair:${name}|${address}`, free: 1, onSuccess: "clear" },
    { key: `address:${address}`, free: 4, onSuccess: "undo" },
  ];
}

/** This name from addresses it never logged in from. */
function nameCounter(name: string): Counter {
  return { key: `user:${name}`, free: 1, onSuccess: "clear" };
}

function throttled(waitMs: number): RegistryError {
  return new RegistryError("TOOMANYREQUESTS", "too many login attempts; try again later", {
    retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
  });
}

/** A few milliseconds, random, so instances that collided do not collide again in step. */
function jitter(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20));
}
