import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { buildApp } from "../../shared/app/build-app.js";
import { FileSecretStore } from "../../shared/storage/local/file-secret-store.js";
import { useAzurite } from "../helpers/azurite.js";
import { isolatedConfig } from "../helpers/registry.js";

/** The admin bootstrap happens once per deployment, ever. */
describe("admin bootstrap", () => {
  const azurite = useAzurite();

  async function deployment() {
    const config = isolatedConfig(azurite().connectionString);
    const secrets = new FileSecretStore(await mkdtemp(join(tmpdir(), "stw-boot-")));
    return () => buildApp(config, { secrets });
  }

  it("creates admin on empty storage, and never again once it is removed", async () => {
    const start = await deployment();
    const first = await start();
    const bootstrap = await first.prepare();
    assert.ok(bootstrap.created && bootstrap.generatedPassword);
    await first.auth.admin.remove("admin", "user");
    assert.deepEqual(await first.auth.admin.list("user"), []);
    const restarted = await start();
    assert.deepEqual(await restarted.prepare(), { created: false }, "removing the only user brings nothing back");
    assert.deepEqual(await restarted.auth.admin.list("user"), []);
  });

  it("counts access tokens as identities: storage holding only a token is not bootstrapped", async () => {
    const start = await deployment();
    const app = await start();
    await app.auth.admin.createToken({ name: "ci", access: ["team/*:push"] });
    assert.deepEqual(await app.prepare(), { created: false });
    assert.deepEqual(await app.auth.admin.list("user"), []);
  });
});
