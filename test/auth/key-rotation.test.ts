import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { FileSecretStore } from "../../shared/storage/local/file-secret-store.js";
import { SigningKeys } from "../../shared/auth/signing-keys.js";
import { TokenIssuer } from "../../shared/auth/token-issuer.js";
import { InvalidTokenError, TokenVerifier } from "../../shared/auth/token-verifier.js";

/**
 * Signing keys live as versions of one secret. Rotation adds a version: new tokens are signed
 * with it at once, tokens signed with the old key stay valid until they expire, and other
 * instances (other SigningKeys over the same secrets) follow without a restart.
 */
describe("signing keys and rotation", () => {
  const settings = { issuer: "stowage", service: "stowage", ttlSeconds: 300 };
  const access = [{ type: "repository" as const, name: "a", actions: ["pull" as const] }];

  async function instance(dir: string, clock: () => number) {
    const keys = new SigningKeys(new FileSecretStore(dir), {
      secretName: "stowage-signing-key",
      tokenTtlSeconds: 300,
      refreshSeconds: 60,
      now: clock,
    });
    return { keys, issuer: new TokenIssuer(keys, settings, clock), verifier: new TokenVerifier(keys, settings, clock) };
  }

  const kidOf = (token: string) =>
    JSON.parse(Buffer.from(token.split(".")[0] as string, "base64url").toString()).kid as string;

  it("generates a key on first use and keeps it (one per secrets directory)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "stw-keys-"));
    const first = await (await instance(dir, Date.now)).keys.signingKey();
    const again = await (await instance(dir, Date.now)).keys.signingKey();
    assert.equal(again.kid, first.kid);
  });

  it("keeps old tokens valid after a rotation until they expire, and signs new ones with the new key", async () => {
    let now = Date.now();
    const dir = await mkdtemp(join(tmpdir(), "stw-keys-"));
    const a = await instance(dir, () => now);
    const old = await a.issuer.issue("admin", access);
    const newKid = await a.keys.rotate();
    assert.notEqual(newKid, kidOf(old.token));

    const fresh = await a.issuer.issue("admin", access);
    assert.equal(kidOf(fresh.token), newKid);
    await a.verifier.verify(old.token);
    await a.verifier.verify(fresh.token);
    assert.deepEqual((await a.keys.jwks()).keys.map((k) => k.kid).sort(), [kidOf(old.token), newKid].sort());

    // past the old tokens' lifetime plus the time other instances may still sign with it
    now += (300 + 60 + 61) * 1000;
    const b = await instance(dir, () => now);
    assert.deepEqual(
      (await b.keys.jwks()).keys.map((k) => k.kid),
      [newKid],
      "the retired key is gone",
    );
    await assert.rejects(b.verifier.verify(old.token), InvalidTokenError);
    const later = await b.issuer.issue("admin", access);
    await a.verifier.verify(later.token);
  });

  it("another instance verifies tokens signed with a key it has not loaded yet, and switches to it", async () => {
    let now = Date.now();
    const dir = await mkdtemp(join(tmpdir(), "stw-keys-"));
    const a = await instance(dir, () => now);
    const b = await instance(dir, () => now);
    await b.keys.signingKey(); // b has loaded the first key
    const rotated = await a.keys.rotate();
    const token = await a.issuer.issue("admin", access);
    await b.verifier.verify(token.token); // unknown kid: b re-reads the keys
    now += 61_000; // b's refresh interval
    assert.equal((await b.keys.signingKey()).kid, rotated);
  });

  it("instances that start together on an empty store both create keys, and trust each other's", async () => {
    const dir = await mkdtemp(join(tmpdir(), "stw-keys-"));
    const [a, b] = await Promise.all([instance(dir, Date.now), instance(dir, Date.now)]);
    const [ta, tb] = await Promise.all([a.issuer.issue("a", access), b.issuer.issue("b", access)]);
    await a.verifier.verify(tb.token);
    await b.verifier.verify(ta.token);
  });
});
