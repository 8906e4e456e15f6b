import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ConfigError, loadConfig } from "../../shared/app/config.js";

describe("TLS and shutdown settings", () => {
  it("serves plain HTTP unless a certificate source is set, and gives requests 25 s on shutdown", () => {
    const config = loadConfig({});
    assert.equal(config.tls, undefined);
    assert.equal(config.shutdownGraceMs, 25_000);
  });

  it("takes PEM files, a PFX with its password, or a secret name", () => {
    assert.deepEqual(loadConfig({ STOWAGE_TLS_CERT_FILE: "c.pem", STOWAGE_TLS_KEY_FILE: "k.pem" }).tls, {
      source: { kind: "pem", certFile: "c.pem", keyFile: "k.pem" },
      reloadMs: 60_000,
    });
    assert.deepEqual(
      loadConfig({ STOWAGE_TLS_PFX_FILE: "r.pfx", STOWAGE_TLS_PFX_PASSWORD: "pw", STOWAGE_TLS_RELOAD_SECONDS: "5" })
        .tls,
      { source: { kind: "pfx", pfxFile: "r.pfx", passphrase: "pw" }, reloadMs: 5000 },
    );
    assert.deepEqual(loadConfig({ STOWAGE_TLS_SECRET_NAME: "registry-tls" }).tls?.source, {
      kind: "secret",
      secretName: "registry-tls",
      passphrase: undefined,
    });
  });

  it("refuses half a PEM pair, two sources at once, and a secret name Key Vault would not accept", () => {
    assert.throws(() => loadConfig({ STOWAGE_TLS_CERT_FILE: "c.pem" }), ConfigError);
    assert.throws(() => loadConfig({ STOWAGE_TLS_KEY_FILE: "k.pem" }), ConfigError);
    assert.throws(
      () => loadConfig({ STOWAGE_TLS_CERT_FILE: "c", STOWAGE_TLS_KEY_FILE: "k", STOWAGE_TLS_PFX_FILE: "p" }),
      /set one of/,
    );
    assert.throws(() => loadConfig({ STOWAGE_TLS_SECRET_NAME: "no_underscores" }), /STOWAGE_TLS_SECRET_NAME/);
  });
});
