import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { ConfigError, loadConfig } from "../../shared/config.js";

describe("configuration", () => {
  it("has defaults for everything but the storage connection", () => {
    const config = loadConfig({});
    assert.equal(config.port, 5000);
    assert.equal(config.host, "127.0.0.1");
    assert.equal(config.connectionString, undefined);
    assert.equal(config.blockSize, 8 * 1024 * 1024);
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

  it("treats empty variables as unset", () => {
    assert.equal(loadConfig({ STOWAGE_STORAGE_CONNECTION_STRING: "" }).connectionString, undefined);
  });
});
