import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { useAzurite } from "../helpers/azurite.js";
import { basic, createAuthRegistry, postToken, type AuthRegistry } from "./support.js";

/**
 * Failed logins are throttled in storage (so every instance counts the same attempts): per
 * name from each address, per address for any name (four times as many), and per name from
 * addresses it never logged in from. Past STOWAGE_LOGIN_MAX_FAILURES each further attempt
 * waits twice as long, up to the lockout. The clock is the registry's own (moved, not slept).
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
    for (const name of ["victim", "other", "roamer", "owner"]) {
      await registry.auth.admin.addUser({ name, access: ["team/*:pull"] }, `${name}-password`);
    }
  });

  /** A GET /token whose client address is unknown: held to the name's counter only. */
  const login = (user: string, password: string) =>
    registry.fetch("/token", { headers: { authorization: basic(user, password) } });
  /** A GET /token from one client address (what the Node adapter reads off the socket). */
  const loginFrom = (user: string, password: string, address: string) =>
    registry.fetchFrom(address, "/token", { headers: { authorization: basic(user, password) } });

  it("lets the allowed failures through as plain 401s, then answers 429 with Retry-After", async () => {
    for (let i = 0; i < 3; i++) assert.equal((await login("victim", "guess")).status, 401, `attempt ${i + 1}`);
    const throttled = await login("victim", "guess");
    assert.equal(throttled.status, 429, "the next attempt must wait");
    const body = (await throttled.json()) as { error: string; errors: { code: string }[] };
    assert.equal(body.errors[0]?.code, "TOOMANYREQUESTS");
    assert.equal(body.error, "temporarily_unavailable");
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
    now += 1_000; // the first delay (1 s) has passed
    assert.equal((await login("victim", "guess")).status, 401);
    now += 1_000; // the next delay is 2 s: not yet
    assert.equal((await login("victim", "guess")).status, 429);
    now += 60_000; // the lockout caps every delay
    assert.equal((await login("victim", "victim-password")).status, 200);
  });

  it("a successful login clears the name's count", async () => {
    for (let i = 0; i < 2; i++) assert.equal((await login("victim", "guess")).status, 401);
    assert.equal((await login("victim", "victim-password")).status, 200);
    for (let i = 0; i < 3; i++) assert.equal((await login("victim", "guess")).status, 401, "counting starts again");
  });

  it("does not lock other users out", async () => {
    assert.equal((await login("other", "other-password")).status, 200);
  });

  it("throttles an address that tries many names", async () => {
    const address = "203.0.113.9";
    // four times the per-name allowance, spread over names so no single name is locked
    for (let i = 0; i < 12; i++)
      assert.equal((await loginFrom(`name${i}`, "guess", address)).status, 401, `attempt ${i + 1}`);
    assert.equal((await loginFrom("roamer", "roamer-password", address)).status, 429, "the address is locked");
    assert.equal((await loginFrom("roamer", "roamer-password", "203.0.113.10")).status, 200, "other addresses are not");
  });

  it("keeps the owner's familiar addresses working while others fail for the name", async () => {
    assert.equal((await loginFrom("owner", "owner-password", "198.51.100.1")).status, 200, "familiar from now on");
    for (let i = 0; i < 10; i++) await loginFrom("owner", "guess", `203.0.113.${100 + i}`);
    assert.equal((await loginFrom("owner", "owner-password", "203.0.113.200")).status, 429, "a new address waits");
    assert.equal((await loginFrom("owner", "owner-password", "198.51.100.1")).status, 200, "the familiar one does not");
    for (let i = 0; i < 3; i++) assert.equal((await loginFrom("owner", "guess", "198.51.100.1")).status, 401);
    assert.equal(
      (await loginFrom("owner", "owner-password", "198.51.100.1")).status,
      429,
      "but is held to its own count",
    );
  });

  it("never locks an access token's name: guessing its 256-bit secret is hopeless anyway", async () => {
    const secret = await registry.auth.admin.createToken({ name: "pull-secret", access: ["team/*:pull"] });
    for (let i = 0; i < 10; i++)
      assert.equal((await loginFrom("pull-secret", "guess", `203.0.113.${50 + i}`)).status, 401);
    assert.equal((await loginFrom("pull-secret", secret, "192.0.2.77")).status, 200, "a new node still pulls");
  });

  it("refuses names no identity can have without touching storage, counted against the address", async () => {
    const address = "203.0.113.33";
    for (const name of ["a/b", "x".repeat(2000), "ünïcode"]) {
      assert.equal((await loginFrom(name, "pw", address)).status, 401, name.slice(0, 10));
    }
    assert.equal((await loginFrom("-dash", "pw", address)).status, 429, "they count like any failure");
  });

  it("forgets failures after a quiet hour", async () => {
    for (let i = 0; i < 3; i++) await login("other", "guess");
    assert.equal((await login("other", "other-password")).status, 429);
    now += 3_600_001;
    assert.equal((await login("other", "other-password")).status, 200);
  });
});
