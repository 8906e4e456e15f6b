import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { VerifiedCredentials } from "../../shared/auth/verified-credentials.js";
import { useAzurite } from "../helpers/azurite.js";
import { basic, createAuthRegistry, type AuthRegistry } from "./support.js";

/**
 * Recently verified logins skip scrypt (docker, podman and skopeo send Basic credentials for
 * every repository), but never weaken what the stored credential and the throttle decide.
 */
describe("verified-login cache", () => {
  const azurite = useAzurite();
  let registry: AuthRegistry;
  let now = Date.parse("2030-01-01T00:00:00Z");

  before(async () => {
    registry = await createAuthRegistry(
      azurite().connectionString,
      { STOWAGE_LOGIN_MAX_FAILURES: "3", STOWAGE_LOGIN_LOCKOUT_SECONDS: "60" },
      () => now,
    );
    for (const name of ["changer", "leaver", "locked", "busy"]) {
      await registry.auth.admin.addUser({ name, access: ["team/*:pull"] }, `${name}-password`);
    }
  });

  const login = (user: string, password: string) =>
    registry.fetch("/token", { headers: { authorization: basic(user, password) } });

  it("lets many parallel logins of one client through once verified (docker asks per repository)", async () => {
    const from = (address: string) =>
      registry.fetchFrom(address, "/token", { headers: { authorization: basic("busy", "busy-password") } });
    assert.equal((await from("192.0.2.7")).status, 200);
    const statuses = await Promise.all(Array.from({ length: 16 }, () => from("192.0.2.7").then((r) => r.status)));
    assert.deepEqual(statuses, Array(16).fill(200), "none throttled, none waiting for scrypt");
  });

  it("drops a login when the password changes: the old one is refused at once, the new one works", async () => {
    assert.equal((await login("changer", "changer-password")).status, 200);
    assert.equal((await login("changer", "changer-password")).status, 200, "a repeated login is accepted");
    await registry.auth.admin.setPassword("changer", "changer-new-password");
    assert.equal((await login("changer", "changer-password")).status, 401);
    assert.equal((await login("changer", "changer-new-password")).status, 200);
  });

  it("drops a login when the identity is removed", async () => {
    assert.equal((await login("leaver", "leaver-password")).status, 200);
    await registry.auth.admin.remove("leaver", "user");
    assert.equal((await login("leaver", "leaver-password")).status, 401);
  });

  it("never caches failures, and a locked-out name stays locked for the remembered password", async () => {
    assert.equal((await login("locked", "locked-password")).status, 200);
    for (let i = 0; i < 3; i++) assert.equal((await login("locked", "guess")).status, 401, `guess ${i + 1}`);
    assert.equal((await login("locked", "guess")).status, 429, "guesses are throttled as before");
    assert.equal((await login("locked", "locked-password")).status, 429, "a remembered password is no way around it");
    assert.equal((await login("locked", "guess")).status, 429);
    now += 120_000; // past the lockout
    assert.equal((await login("locked", "locked-password")).status, 200);
  });
});

describe("VerifiedCredentials", () => {
  let now = 0;
  const cache = new VerifiedCredentials(() => now, 60_000);

  it("matches only the same name, secret and credential version, within its lifetime", () => {
    cache.remember("alice", "s3cret", "v1");
    assert.equal(cache.has("alice", "s3cret", "v1"), true);
    assert.equal(cache.has("alice", "s3cret!", "v1"), false, "another secret");
    assert.equal(cache.has("alic", "es3cret", "v1"), false, "name and secret do not run together");
    assert.equal(cache.has("alice", "s3cret", "v2"), false, "a changed credential");
    assert.equal(cache.has("alice", "s3cret", "v1"), false, "and the stale entry is gone");
    cache.remember("alice", "s3cret", "v2");
    now += 60_000;
    assert.equal(cache.has("alice", "s3cret", "v2"), false, "expired after the TTL");
  });

  it("keeps nothing when its lifetime is zero", () => {
    const off = new VerifiedCredentials(() => now, 0);
    off.remember("bob", "pw", "v1");
    assert.equal(off.has("bob", "pw", "v1"), false);
  });
});
