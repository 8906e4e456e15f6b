import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { useAzurite } from "../helpers/azurite.js";
import { basic, createAuthRegistry, postToken, type AuthRegistry } from "./support.js";

/**
 * Failed logins are throttled per user name and per client address, in storage (so every
 * instance counts the same failures): after STOWAGE_LOGIN_MAX_FAILURES wrong passwords (four
 * times as many per address) each further attempt waits twice as long, up to the lockout.
 */
describe("failed-login throttling", () => {
  const azurite = useAzurite();
  let registry: AuthRegistry;
  let now = Date.parse("2030-01-01T00:00:00Z");

  before(async () => {
    registry = await createAuthRegistry(
      azurite().connectionString,
      { STOWAGE_LOGIN_MAX_FAILURES: "3", STOWAGE_LOGIN_LOCKOUT_SECONDS: "60" },
      () => now,
    );
    for (const name of ["victim", "other", "roamer"]) {
      await registry.auth.admin.addUser({ name, access: ["team/*:pull"] }, `${name}-password`);
    }
  });

  /** A GET /token whose client address is unknown: throttled by name only. */
  const login = (user: string, password: string) =>
    registry.fetch("/token", { headers: { authorization: basic(user, password) } });
  /** A GET /token from one client address (what the Node adapter records from the socket). */
  const loginFrom = (user: string, password: string, address: string) => {
    return registry.fetchFrom(address, "/token", { headers: { authorization: basic(user, password) } });
  };

  it("lets the first failures through as plain 401s, then answers 429 with Retry-After", async () => {
    for (let i = 0; i < 3; i++) assert.equal((await login("victim", "guess")).status, 401, `attempt ${i + 1}`);
    assert.equal((await login("victim", "guess")).status, 401, "the fourth failure is counted...");
    const throttled = await login("victim", "guess");
    assert.equal(throttled.status, 429, "...and the next attempt must wait");
    assert.equal(((await throttled.json()) as { errors: { code: string }[] }).errors[0]?.code, "TOOMANYREQUESTS");
    assert.ok(Number(throttled.headers.get("retry-after")) >= 1);
  });

  it("refuses even the right password while locked out (the password is not even checked)", async () => {
    assert.equal((await login("victim", "victim-password")).status, 429);
    assert.equal(
      (await postToken(registry, { grant_type: "password", username: "victim", password: "victim-password" })).status,
      429,
    );
  });

  it("waits longer after each further failure, up to the lockout", async () => {
    now += 2_000; // the first delay (2 s) has passed
    assert.equal((await login("victim", "guess")).status, 401);
    now += 2_000; // the next delay is 4 s: not yet
    assert.equal((await login("victim", "guess")).status, 429);
    now += 60_000; // the lockout caps every delay
    assert.equal((await login("victim", "victim-password")).status, 200);
  });

  it("a successful login clears the user's count", async () => {
    for (let i = 0; i < 3; i++) assert.equal((await login("victim", "guess")).status, 401);
    assert.equal((await login("victim", "victim-password")).status, 200);
    assert.equal((await login("victim", "guess")).status, 401, "counting starts again");
  });

  it("does not lock other users out", async () => {
    assert.equal((await login("other", "other-password")).status, 200);
  });

  it("throttles an address that tries many names", async () => {
    const address = "203.0.113.9";
    // four times the per-user allowance, spread over names so no single user is locked
    for (let i = 0; i < 13; i++)
      assert.equal((await loginFrom(`name${i}`, "guess", address)).status, 401, `attempt ${i + 1}`);
    assert.equal((await loginFrom("roamer", "roamer-password", address)).status, 429, "the address is locked");
    assert.equal((await loginFrom("roamer", "roamer-password", "203.0.113.10")).status, 200, "other addresses are not");
  });

  it("forgets failures after a quiet hour", async () => {
    for (let i = 0; i < 4; i++) await login("other", "guess");
    assert.equal((await login("other", "other-password")).status, 429);
    now += 3_600_001;
    assert.equal((await login("other", "other-password")).status, 200);
  });
});
