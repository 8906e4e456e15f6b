import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, loadConfig } from "../../shared/app/config.js";
import { accountUrl } from "../../shared/storage/azure/azure-storage.js";

describe("storage settings (Azure Stack Hub, identities)", () => {
  it("pins no API version unless told, and takes a service version date", () => {
    assert.equal(loadConfig({}).storageApiVersion, undefined);
    assert.equal(loadConfig({ STOWAGE_STORAGE_API_VERSION: "2019-07-07" }).storageApiVersion, "2019-07-07");
    assert.throws(() => loadConfig({ STOWAGE_STORAGE_API_VERSION: "latest" }), /STOWAGE_STORAGE_API_VERSION/);
  });

  it("reaches an account by name with the public Azure suffix by default, or Stack Hub's", () => {
    assert.deepEqual(loadConfig({ STOWAGE_STORAGE_ACCOUNT: "stowage01" }).storageAccount, {
      name: "stowage01",
      endpointSuffix: "core.windows.net",
    });
    const hub = loadConfig({
      STOWAGE_STORAGE_ACCOUNT: "stowage01",
      STOWAGE_STORAGE_ENDPOINT_SUFFIX: "local.azurestack.external",
    });
    assert.equal(hub.storageAccount?.endpointSuffix, "local.azurestack.external");
    assert.throws(() => loadConfig({ STOWAGE_STORAGE_ACCOUNT: "Not_An_Account" }), /STOWAGE_STORAGE_ACCOUNT/);
    assert.throws(
      () => loadConfig({ STOWAGE_STORAGE_ENDPOINT_SUFFIX: "https://x" }),
      /STOWAGE_STORAGE_ENDPOINT_SUFFIX/,
    );
  });

  it("refuses a connection string and an account together (which one would win is a guess)", () => {
    assert.throws(
      () =>
        loadConfig({
          STOWAGE_STORAGE_CONNECTION_STRING: "UseDevelopmentStorage=true",
          STOWAGE_STORAGE_ACCOUNT: "acct01",
        }),
      (error: unknown) => error instanceof ConfigError && /not both/.test(error.message),
    );
  });

  it("derives the account's endpoints from its name and suffix", () => {
    const hub = { name: "stowage01", endpointSuffix: "local.azurestack.external" };
    assert.equal(accountUrl(hub, "blob"), "https://stowage01.blob.local.azurestack.external");
    assert.equal(accountUrl(hub, "queue"), "https://stowage01.queue.local.azurestack.external");
    assert.equal(
      accountUrl({ name: "acct", endpointSuffix: "core.windows.net" }, "table"),
      "https://acct.table.core.windows.net",
    );
  });
});
