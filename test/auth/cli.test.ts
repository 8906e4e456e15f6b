import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { connectAzureStorage } from "../../shared/storage/azure/azure-storage.js";
import { runningAzurite, startDataDirAzurite } from "../../shared/server/data-dir-azurite.js";
import { useAzurite } from "../helpers/azurite.js";
import { cli, type CliResult } from "../helpers/cli.js";
import { basic, claims, createAuthRegistry } from "./support.js";

/**
 * The admin CLI (`npm run cli -- ...`) as a process: users, access tokens and key rotation,
 * straight in storage, against a configured account or the embedded Azurite's data directory.
 */
describe("admin CLI", () => {
  const azurite = useAzurite();
  let env: Record<string, string>;

  before(async () => {
    env = {
      STOWAGE_STORAGE_CONNECTION_STRING: azurite().connectionString,
      STOWAGE_TABLE_PREFIX: `cli${randomBytes(4).toString("hex")}`,
      STOWAGE_SECRETS_DIR: await mkdtemp(join(tmpdir(), "stw-cli-secrets-")),
    };
  });

  const ok = async (args: string[], stdin = ""): Promise<CliResult> => {
    const result = await cli(args, env, stdin);
    assert.equal(result.code, 0, `${args.join(" ")}: ${result.stderr}`);
    return result;
  };

  it("prints usage", async () => {
    const result = await cli([], env);
    assert.equal(result.code, 0);
    assert.match(result.stderr, /user add NAME/);
    assert.equal((await cli(["user", "fly"], env)).code, 2);
  });

  it("adds a user with a generated password printed once, and lists it", async () => {
    const added = await ok(["user", "add", "alice", "--allow", "team/*:pull,push", "--allow", "catalog"]);
    const password = added.stdout.trim();
    assert.match(password, /^[A-Za-z0-9_-]{24}$/, "only the password on stdout");
    assert.match(added.stderr, /created user "alice"/);
    const listed = await ok(["user", "list"]);
    assert.match(listed.stdout, /^alice\t.*repository:team\/\*:pull,push registry:catalog:\*$/m);
    assert.doesNotMatch(listed.stdout, new RegExp(password));
  });

  it("takes a password from stdin, changes it, and removes users", async () => {
    await ok(["user", "add", "bob", "--password-stdin", "--allow", "x:pull"], "bob-password\n");
    const storage = connectAzureStorage({
      connectionString: env.STOWAGE_STORAGE_CONNECTION_STRING as string,
      container: "unused",
      tablePrefix: env.STOWAGE_TABLE_PREFIX as string,
    }).auth;
    const before = (await storage.identities.get("bob"))?.secretHash;
    assert.ok(before && !before.includes("bob-password"), "stored hashed");
    await ok(["user", "passwd", "bob", "--password-stdin"], "another-password\n");
    assert.notEqual((await storage.identities.get("bob"))?.secretHash, before);
    await ok(["user", "remove", "bob"]);
    assert.equal(await storage.identities.get("bob"), undefined);
  });

  it("creates access tokens that log in, lists them without secrets, and revokes them", async () => {
    const created = await ok(["token", "create", "k8s-pull", "--allow", "team/*:pull", "--expires", "30d"]);
    const secret = created.stdout.trim();
    assert.match(secret, /^stw_[A-Za-z0-9_-]{43}$/);
    const listed = await ok(["token", "list"]);
    assert.match(listed.stdout, /^k8s-pull\t.*expires=.*repository:team\/\*:pull$/m);
    assert.doesNotMatch(listed.stdout, /stw_/);

    // the server (same storage) accepts the token as a login
    const registry = await createAuthRegistry(env.STOWAGE_STORAGE_CONNECTION_STRING as string, {
      STOWAGE_TABLE_PREFIX: env.STOWAGE_TABLE_PREFIX as string,
    });
    const login = await registry.fetch("/token?scope=repository:team/a:pull,push", {
      headers: { authorization: basic("k8s-pull", secret) },
    });
    assert.equal(login.status, 200);
    assert.deepEqual(claims(((await login.json()) as { token: string }).token).access, [
      { type: "repository", name: "team/a", actions: ["pull"] },
    ]);

    await ok(["token", "revoke", "k8s-pull"]);
    assert.equal(
      (await registry.fetch("/token", { headers: { authorization: basic("k8s-pull", secret) } })).status,
      401,
    );
  });

  it("refuses bad input with a message and a non-zero exit", async () => {
    for (const args of [
      ["token", "create", "t1"],
      ["token", "create", "t2", "--allow", "Team/*:pull"],
      ["token", "create", "t3", "--allow", "x:pull", "--expires", "yesterday"],
      ["user", "add", "alice"],
      ["user", "add", "anonymous"],
      ["user", "add", "carol", "--bogus"],
      ["user", "remove", "nobody"],
      ["token", "revoke", "alice"],
    ]) {
      const result = await cli(args, env, "short\n");
      assert.equal(result.code, 1, `${args.join(" ")} should fail`);
      assert.match(result.stderr, /^error: /m, args.join(" "));
    }
    const short = await cli(["user", "add", "dave", "--password-stdin"], env, "short\n");
    assert.match(short.stderr, /at least 8 characters/);
  });

  it("rotates the signing key (a new version in the secrets directory)", async () => {
    const dir = join(env.STOWAGE_SECRETS_DIR as string, "stowage-signing-key");
    const before = existsSync(dir) ? (await readdir(dir)).length : 0;
    const rotated = await ok(["keys", "rotate"]);
    assert.match(rotated.stdout.trim(), /^[A-Za-z0-9_-]{43}$/, "the new kid");
    assert.equal((await readdir(dir)).length, before + 1);
    const again = await ok(["keys", "rotate"]);
    assert.notEqual(again.stdout.trim(), rotated.stdout.trim());
    assert.equal((await readdir(dir)).length, before + 2);
  });

  describe("without a connection string: the embedded Azurite's data directory", () => {
    let dataDir: string;
    const local = () => ({ STOWAGE_DATA_DIR: dataDir });
    let server: Awaited<ReturnType<typeof startDataDirAzurite>> | undefined;

    before(async () => {
      dataDir = await mkdtemp(join(tmpdir(), "stw-cli-data-"));
    });
    after(async () => {
      await server?.stop();
    });

    it("starts Azurite on the directory for the command when no server runs, and stops it", async () => {
      const added = await cli(["user", "add", "eve", "--allow", "x:pull"], local());
      assert.equal(added.code, 0, added.stderr);
      assert.equal(await runningAzurite(dataDir), undefined, "nothing left running");
      const listed = await cli(["user", "list"], local());
      assert.match(listed.stdout, /^eve\t/m, "the data persisted in the directory");
    });

    it("uses the running server's Azurite instead of starting a second one on the same data", async () => {
      server = await startDataDirAzurite(dataDir); // what `npm start` does
      const added = await cli(["user", "add", "frank", "--allow", "x:pull"], local());
      assert.equal(added.code, 0, added.stderr);
      const storage = connectAzureStorage({
        connectionString: server.connectionString,
        container: "unused",
        tablePrefix: "stowage",
      }).auth;
      assert.ok(await storage.identities.get("frank"), "written through the server's Azurite");
      assert.ok(await storage.identities.get("eve"));
      await assert.rejects(startDataDirAzurite(dataDir), /already serves/);
    });
  });
});
