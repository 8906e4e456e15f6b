import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { before, describe, it } from "node:test";
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from "jose";
import { useAzurite } from "../helpers/azurite.js";
import { assertChallenge, bearer, createAuthRegistry, getToken, type AuthRegistry } from "./support.js";

/**
 * Tokens the registry must refuse (401 with `error="invalid_token"`), each built by hand with
 * our real signing key where the attack needs one: only an ES256 token signed by one of our
 * keys, for this service, from our issuer, within its lifetime, passes.
 */
describe("forged and invalid access tokens", () => {
  const azurite = useAzurite();
  let registry: AuthRegistry;
  const scope = "repository:team/app:pull";
  const access = [{ type: "repository", name: "team/app", actions: ["pull"] }];

  before(async () => {
    registry = await createAuthRegistry(azurite().connectionString);
  });

  /** Claims a real token would have, overridden per test. */
  function payload(overrides: JWTPayload = {}): JWTPayload {
    const now = Math.floor(Date.now() / 1000);
    return {
      iss: "stowage",
      sub: "admin",
      aud: "stowage",
      iat: now,
      nbf: now,
      exp: now + 300,
      jti: "j",
      access,
      ...overrides,
    };
  }

  /** Signs with the registry's own current key, so only the claims differ from a real token. */
  async function signed(overrides: JWTPayload = {}): Promise<string> {
    const { kid, key } = await registry.auth.keys.signingKey();
    return new SignJWT(payload(overrides)).setProtectedHeader({ alg: "ES256", kid }).sign(key);
  }

  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");

  async function assertRefused(token: string): Promise<void> {
    const response = await registry.fetch("/v2/team/app/manifests/1", { headers: bearer(token) });
    await assertChallenge(response, scope, "invalid_token");
  }

  it("accepts a well-formed token signed with our key (the control)", async () => {
    const response = await registry.fetch("/v2/team/app/manifests/1", { headers: bearer(await signed()) });
    assert.equal(response.status, 404, "authorized: the manifest simply does not exist");
  });

  it("refuses an expired token", async () => {
    const past = Math.floor(Date.now() / 1000) - 3600;
    await assertRefused(await signed({ iat: past, nbf: past, exp: past + 300 }));
  });

  it("refuses a token that is not valid yet", async () => {
    await assertRefused(await signed({ nbf: Math.floor(Date.now() / 1000) + 600 }));
  });

  it("refuses a token for another audience", async () => {
    await assertRefused(await signed({ aud: "another-registry" }));
  });

  it("refuses a token from another issuer", async () => {
    await assertRefused(await signed({ iss: "someone-else" }));
  });

  it("refuses a token without a required claim", async () => {
    await assertRefused(await signed({ sub: undefined }));
    await assertRefused(await signed({ access: undefined }));
    await assertRefused(await signed({ access: [{ type: "repository", name: "team/app", actions: ["steal"] }] }));
  });

  it('refuses `alg: "none"`', async () => {
    const { kid } = await registry.auth.keys.signingKey();
    await assertRefused(`${encode({ alg: "none", kid, typ: "JWT" })}.${encode(payload())}.`);
    await assertRefused(`${encode({ alg: "none", typ: "JWT" })}.${encode(payload())}`);
  });

  it("refuses HS256 signed with our public key as the HMAC secret (algorithm confusion)", async () => {
    const { kid } = await registry.auth.keys.signingKey();
    const { keys } = await registry.auth.keys.jwks();
    for (const secret of [JSON.stringify(keys[0]), JSON.stringify(keys)]) {
      const input = `${encode({ alg: "HS256", kid, typ: "JWT" })}.${encode(payload())}`;
      const signature = createHmac("sha256", secret).update(input).digest("base64url");
      await assertRefused(`${input}.${signature}`);
    }
  });

  it("refuses a tampered token (a real one with its access widened)", async () => {
    const { token } = await getToken(registry, "admin", "admin-password-for-tests", ["repository:team/other:pull"]);
    const [header, body, signature] = token.split(".") as [string, string, string];
    const claims = JSON.parse(Buffer.from(body, "base64url").toString());
    claims.access = access;
    await assertRefused(`${header}.${encode(claims)}.${signature}`);
  });

  it("refuses a token signed by another key under our kid, and one with an unknown kid", async () => {
    const { kid } = await registry.auth.keys.signingKey();
    const { privateKey } = await generateKeyPair("ES256");
    await assertRefused(await new SignJWT(payload()).setProtectedHeader({ alg: "ES256", kid }).sign(privateKey));
    await assertRefused(
      await new SignJWT(payload()).setProtectedHeader({ alg: "ES256", kid: "not-ours" }).sign(privateKey),
    );
    // a key embedded in the token's own header must not be trusted either
    const jwk = await exportJWK((await generateKeyPair("ES256")).publicKey);
    await assertRefused(await new SignJWT(payload()).setProtectedHeader({ alg: "ES256", jwk }).sign(privateKey));
  });

  it("refuses garbage", async () => {
    for (const token of ["x", "a.b.c", "....", "eyJhbGciOiJFUzI1NiJ9.e30.AAAA"]) await assertRefused(token);
  });
});
