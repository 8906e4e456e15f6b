import assert from "node:assert/strict";
import { Agent } from "node:https";
import { after, before, describe, it } from "node:test";
import { buildApp } from "../../shared/app/build-app.js";
import {
  KeyVaultSecretStore,
  type KeyVaultOptions,
  type TokenCredential,
} from "../../shared/storage/azure/key-vault-secret-store.js";
import { SigningKeys } from "../../shared/auth/signing-keys.js";
import { useAzurite } from "../helpers/azurite.js";
import { isolatedConfig } from "../helpers/registry.js";
import { startFakeKeyVault, type FakeKeyVault } from "./fake-key-vault.js";

/**
 * The Key Vault secret provider through the real @azure/keyvault-secrets SDK, against a local
 * HTTPS server that speaks the Key Vault secrets protocol (fake-key-vault.ts: there is no Key
 * Vault emulator). The SDK's challenge flow, paging and API versions are exercised for real;
 * only the network endpoint and the credential (a TokenCredential handing out a fixed token)
 * are stand-ins.
 */
describe("Azure Key Vault secret provider (real SDK, local Key Vault protocol server)", () => {
  const azurite = useAzurite();
  let vault: FakeKeyVault;
  const tokenRequests: { scopes: string[]; tenantId: string | undefined }[] = [];

  const credential: TokenCredential = {
    getToken: async (scopes, options) => {
      tokenRequests.push({ scopes: [scopes].flat(), tenantId: options?.tenantId });
      return { token: vault.accessToken, expiresOnTimestamp: Date.now() + 3_600_000 };
    },
  };

  /** A provider for the fake vault: trusts its certificate, resolves its names to 127.0.0.1. */
  function provider(options: Partial<KeyVaultOptions> = {}, hostname = "127.0.0.1"): KeyVaultSecretStore {
    const agent = new Agent({
      ca: vault.ca,
      // every name of the fake vault is this machine's loopback
      lookup: (_host, opts, callback) =>
        (opts as { all?: boolean }).all
          ? callback(null, [{ address: "127.0.0.1", family: 4 }])
          : callback(null, "127.0.0.1", 4),
    });
    return new KeyVaultSecretStore({
      url: `https://${hostname}:${vault.port}`,
      credential,
      clientOptions: { agent: agent as never, retryOptions: { maxRetries: 0 } },
      ...options,
    });
  }

  before(async () => {
    vault = await startFakeKeyVault({ hostnames: ["stowage.vault.localhost"] });
  });
  after(() => vault.close());

  describe("Azure Stack Hub settings: API version 7.1, challenge resource not verified", () => {
    let kv: KeyVaultSecretStore;
    before(() => {
      kv = provider({ serviceVersion: "7.1", disableChallengeResourceVerification: true });
    });

    it("reports a missing secret as missing", async () => {
      assert.equal(await kv.latest("absent"), undefined);
      assert.deepEqual(await kv.versions("absent"), []);
    });

    it("writes versions and reads them back, following the listing's nextLink", async () => {
      const first = await kv.add("greeting", "hello");
      const second = await kv.add("greeting", "hello again");
      assert.equal(await kv.latest("greeting"), "hello again");
      assert.equal(await kv.get("greeting", first.version), "hello");
      const versions = await kv.versions("greeting");
      assert.deepEqual(versions.map((v) => v.version).sort(), [first.version, second.version].sort());
      assert.ok(versions.every((v) => v.enabled && v.createdOn instanceof Date));
    });

    it("went through the challenge: a token for the challenged resource and tenant", () => {
      assert.ok(
        tokenRequests.some((r) => r.scopes[0] === "https://vault.azure.net/.default" && r.tenantId === "fake-tenant"),
      );
    });

    it("speaks API version 7.1", () => {
      assert.ok(vault.apiVersions.length > 0);
      assert.deepEqual([...new Set(vault.apiVersions)], ["7.1"]);
    });

    it("holds the signing keys: one version per key, rotation adds one, a disabled version is withdrawn", async () => {
      const keys = new SigningKeys(kv, { secretName: "stowage-signing-key", tokenTtlSeconds: 300, refreshSeconds: 0 });
      const first = (await keys.signingKey()).kid;
      const second = await keys.rotate();
      assert.deepEqual(
        (await keys.jwks()).keys.map((k) => k.kid),
        [first, second],
      );
      // an operator disables the old version in the vault: it no longer verifies
      const stored = vault.secrets.get("stowage-signing-key") ?? [];
      (stored[0] as { enabled: boolean }).enabled = false;
      assert.deepEqual(
        (await keys.jwks()).keys.map((k) => k.kid),
        [second],
      );
      const private_ = JSON.parse((stored[1] as { value: string }).value);
      assert.equal(private_.kty, "EC", "the vault holds the private JWK");
    });

    it("errors name the secret and the status, never a value", async () => {
      const broken = provider({
        serviceVersion: "7.1",
        disableChallengeResourceVerification: true,
        credential: { getToken: async () => ({ token: "wrong", expiresOnTimestamp: Date.now() + 3_600_000 }) },
      });
      await assert.rejects(broken.add("s3cret-name", "the-secret-value"), (error: Error) => {
        assert.match(error.message, /Key Vault: could not write secret "s3cret-name": HTTP 401/);
        assert.doesNotMatch(error.message + String(error.stack), /the-secret-value/);
        return true;
      });
    });
  });

  describe("default settings (Azure): the challenge resource is verified", () => {
    it("refuses a challenge for a resource outside the vault's domain", async () => {
      await assert.rejects(
        provider().latest("greeting"),
        /could not read secret "greeting": The challenge resource .* does not match the requested domain/,
      );
    });

    it("accepts a challenge whose resource is the vault's domain", async () => {
      const own = await startFakeKeyVault({
        resource: "https://vault.localhost",
        hostnames: ["stowage.vault.localhost"],
      });
      const previous = vault;
      vault = own;
      try {
        const kv = provider({}, "stowage.vault.localhost");
        await kv.add("domain-checked", "ok");
        assert.equal(await kv.latest("domain-checked"), "ok");
        assert.ok(
          own.apiVersions.every((v) => v === "2025-07-01"),
          `latest API version by default, saw ${own.apiVersions.join(",")}`,
        );
      } finally {
        vault = previous;
        await own.close();
      }
    });
  });

  it("bootstraps the admin password and signing key into the vault through the composition root", async () => {
    const secrets = provider({ serviceVersion: "7.1", disableChallengeResourceVerification: true });
    const config = isolatedConfig(azurite().connectionString, { STOWAGE_SECRET_PREFIX: "reg1" });
    const bootstrap = await (await buildApp(config, { secrets })).prepare();
    assert.ok(bootstrap.created && bootstrap.generatedPassword);
    assert.equal(vault.secrets.get("reg1-admin-password")?.[0]?.value, bootstrap.generatedPassword);
    assert.equal(vault.secrets.get("reg1-signing-key")?.length, 1);
  });
});
