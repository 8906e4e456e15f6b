import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { ConfigError, loadConfig } from "../../shared/app/config.js";

describe("configuration", () => {
  it("has defaults for everything but the storage connection", () => {
    const config = loadConfig({});
    assert.equal(config.port, 5000);
    assert.equal(config.host, "127.0.0.1");
    assert.equal(config.connectionString, undefined);
    assert.equal(config.blockSize, 4 * 1024 * 1024);
  });

  it("accepts every setting in local.settings.sample.json (what `func start` would see)", () => {
    const sample = JSON.parse(readFileSync("local.settings.sample.json", "utf8")) as { Values: Record<string, string> };
    const config = loadConfig(sample.Values);
    assert.equal(config.connectionString, "UseDevelopmentStorage=true");
    for (const key of Object.keys(sample.Values).filter((k) => k.startsWith("STOWAGE_"))) {
      assert.doesNotThrow(() => loadConfig({ [key]: sample.Values[key] }), key);
    }
  });

  it("rejects bad values with a message naming each variable", () => {
    assert.throws(
      () => loadConfig({ PORT: "http", STOWAGE_CONTAINER: "Bad_Container", STOWAGE_BLOB_REDIRECT: "maybe" }),
      (error: unknown) =>
        error instanceof ConfigError &&
        ["PORT", "STOWAGE_CONTAINER", "STOWAGE_BLOB_REDIRECT"].every((name) => error.message.includes(name)),
    );
  });

  it("has auth on with safe defaults: no anonymous pull, local secrets under the data directory", () => {
    const { auth } = loadConfig({ STOWAGE_DATA_DIR: "/srv/stowage" });
    assert.deepEqual(auth.anonymousPull, []);
    assert.equal(auth.keyVault, undefined);
    assert.equal(auth.secretsDir, "/srv/stowage/secrets");
    assert.equal(auth.trustProxy, false);
    assert.equal(auth.tokenTtlSeconds, 300);
    assert.equal(auth.refreshTokenTtlSeconds, 90 * 86_400);
  });

  it("reads the Key Vault and anonymous-pull settings", () => {
    const { auth } = loadConfig({
      STOWAGE_KEY_VAULT_URL: "https://vault.local.azurestack.external",
      STOWAGE_KEY_VAULT_API_VERSION: "7.1",
      STOWAGE_KEY_VAULT_DISABLE_CHALLENGE_RESOURCE_VERIFICATION: "true",
      STOWAGE_ANONYMOUS_PULL: "public/*,library/*",
    });
    assert.deepEqual(auth.keyVault, {
      url: "https://vault.local.azurestack.external",
      serviceVersion: "7.1",
      disableChallengeResourceVerification: true,
    });
    assert.deepEqual(auth.anonymousPull, ["public/*", "library/*"]);
  });

  it("rejects unsafe auth settings, naming each", () => {
    const bad = {
      STOWAGE_KEY_VAULT_URL: "http://vault.example",
      STOWAGE_ADMIN_PASSWORD: "short",
      STOWAGE_TOKEN_TTL_SECONDS: "30",
      STOWAGE_PUBLIC_URL: "ftp://registry",
      STOWAGE_ANONYMOUS_PULL: "Public/*",
    };
    assert.throws(
      () => loadConfig(bad),
      (error: unknown) =>
        error instanceof ConfigError && Object.keys(bad).every((name) => error.message.includes(name)),
    );
  });

  it("treats empty variables as unset", () => {
    assert.equal(loadConfig({ STOWAGE_STORAGE_CONNECTION_STRING: "" }).connectionString, undefined);
  });
});
