import assert from "node:assert/strict";

/**
 * Asserts that a process's log holds none of `secrets` and nothing shaped like a credential:
 * a JWT (`eyJ...`), an access-token secret (`stw_...`), an Authorization header's scheme
 * followed by a value, or an account key.
 */
export function assertNoSecrets(log: string, secrets: string[]): void {
  assert.ok(log.length > 0, "there is a log to scan");
  for (const secret of secrets) {
    assert.ok(secret.length >= 8, "a secret to look for");
    assert.ok(!log.includes(secret), `a secret is in the log (${secret.slice(0, 4)}…)`);
  }
  const shapes: [string, RegExp][] = [
    ["a JWT", /eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/],
    ["an access-token secret", /stw_[A-Za-z0-9_-]{16,}/],
    ["a credential header", /\b(Bearer|Basic) [A-Za-z0-9+/=._-]{8,}/],
    ["an account key", /AccountKey=/],
  ];
  for (const [what, shape] of shapes) assert.ok(!shape.test(log), `${what} is in the log`);
}
