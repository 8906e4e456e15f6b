import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { openAccess } from "../../shared/http/authorizer.js";
import { bearer, createAuthRegistry, getToken } from "../auth/support.js";
import { useAzurite } from "../helpers/azurite.js";
import { cli } from "../helpers/cli.js";
import { sha256 } from "../helpers/content.js";
import { createTestApp } from "../helpers/registry.js";
import { blobStatus, manifestStatus, pushImageOf } from "./support.js";

/** Repository deletion (CLI and JSON API), usage, and the gc command, as operators use them. */
describe("Repositories: deletion, usage and the gc command", () => {
  const azurite = useAzurite();

  it("the CLI reports usage, deletes a repository, and gc then collects its bytes (dry run first)", async () => {
    const env = {
      STOWAGE_STORAGE_CONNECTION_STRING: azurite().connectionString,
      STOWAGE_TABLE_PREFIX: `life${randomBytes(4).toString("hex")}`,
      STOWAGE_CONTAINER: `life-${randomBytes(4).toString("hex")}`,
      STOWAGE_SECRETS_DIR: await mkdtemp(join(tmpdir(), "stw-life-secrets-")),
    };
    const app = await createTestApp(azurite().connectionString, env, { authorizer: openAccess });
    await pushImageOf(app, "use/a", "one", ["a config", "shared layer 1234", "a only"]);
    await pushImageOf(app, "use/a", "two", ["a config 2", "shared layer 1234"]);
    await pushImageOf(app, "use/b", "one", ["b config", "shared layer 1234"]);

    const usage = await cli(["usage", "--json"], env);
    assert.equal(usage.code, 0, usage.stderr);
    const report = JSON.parse(usage.stdout) as {
      repositories: { repository: string; manifests: number; tags: number; bytes: number }[];
      total: { bytes: number; manifests: number };
    };
    const a = report.repositories.find((r) => r.repository === "use/a");
    const b = report.repositories.find((r) => r.repository === "use/b");
    const size = (...parts: string[]) => parts.reduce((sum, p) => sum + Buffer.byteLength(p), 0);
    const manifestBytes = async (repo: string, tag: string) =>
      Number((await app.fetch(`/v2/${repo}/manifests/${tag}`, { method: "HEAD" })).headers.get("content-length"));
    const aManifests = (await manifestBytes("use/a", "one")) + (await manifestBytes("use/a", "two"));
    const bManifest = await manifestBytes("use/b", "one");
    assert.deepEqual(a, {
      repository: "use/a",
      manifests: 2,
      tags: 2,
      bytes: aManifests + size("a config", "shared layer 1234", "a only", "a config 2"),
    });
    assert.equal(b?.bytes, bManifest + size("b config", "shared layer 1234"));
    assert.equal(
      report.total.bytes,
      aManifests + bManifest + size("a config", "shared layer 1234", "a only", "a config 2", "b config"),
      "a layer shared by two repositories counts once registry-wide",
    );
    assert.match((await cli(["usage"], env)).stdout, /use\/a\t2\t2\t/);

    const deleted = await cli(["repo", "delete", "use/a"], env);
    assert.equal(deleted.code, 0, deleted.stderr);
    assert.equal(await manifestStatus(app, "use/a", "one"), 404);
    const unknown = await cli(["repo", "delete", "use/a"], env);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /not known/);

    const dry = await cli(["gc", "--dry-run", "--json", "--grace", "0"], env);
    assert.equal(dry.code, 0, dry.stderr);
    const preview = JSON.parse(dry.stdout) as { dryRun: boolean; sweep: { blobs: { count: number; bytes: number } } };
    assert.equal(preview.dryRun, true);
    assert.deepEqual(preview.sweep.blobs, { count: 3, bytes: size("a config", "a only", "a config 2") });
    assert.equal(await blobStatus(app, "use/b", sha256("shared layer 1234")), 200);
    assert.ok(await app.storage.registry.metadata.getBlob(sha256("a only")), "the dry run deleted nothing");

    const run = await cli(["gc", "--grace", "0"], env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /unreferenced blobs +deleted 3 \(/);
    assert.equal(await app.storage.registry.metadata.getBlob(sha256("a only")), undefined);
    assert.equal(await blobStatus(app, "use/b", sha256("shared layer 1234")), 200, "use/b still needs it");
    const catalog = (await (await app.fetch("/v2/_catalog")).json()) as { repositories: string[] };
    assert.deepEqual(catalog.repositories, ["use/b"]);
    assert.equal((await cli(["gc", "--grace", "soon"], env)).code, 1);
  });

  it("the JSON API deletes a repository for a caller with delete on it, and refuses others", async () => {
    const registry = await createAuthRegistry(azurite().connectionString);
    await registry.auth.admin.addUser({ name: "dev", access: ["team/*:pull,push"] }, "dev-password");
    const admin = (
      await getToken(registry, "admin", "admin-password-for-tests", ["repository:team/app:pull,push,delete"])
    ).token;
    const app = Object.assign(registry.app, {
      fetch: (path: string, init: RequestInit = {}) =>
        registry.fetch(path, { ...init, headers: { ...bearer(admin), ...(init.headers as Record<string, string>) } }),
    });
    const digest = await pushImageOf(app, "team/app", "v1", ["api config", "api layer"]);

    const anonymous = await registry.fetch("/api/v1/repositories/team/app", { method: "DELETE" });
    assert.equal(anonymous.status, 401);
    const dev = (await getToken(registry, "dev", "dev-password", ["repository:team/app:pull,push,delete"])).token;
    const denied = await registry.fetch("/api/v1/repositories/team/app", { method: "DELETE", headers: bearer(dev) });
    assert.ok([401, 403].includes(denied.status), `dev has no delete: ${denied.status}`);
    assert.equal(await manifestStatus(app, "team/app", digest), 200);

    const response = await app.fetch("/api/v1/repositories/team/app", { method: "DELETE" });
    assert.equal(response.status, 200, await response.clone().text());
    assert.deepEqual(((await response.json()) as { deleted: boolean }).deleted, true);
    assert.equal(await manifestStatus(app, "team/app", "v1"), 404);
    const again = await app.fetch("/api/v1/repositories/team/app", { method: "DELETE" });
    assert.equal(again.status, 404);
    assert.match(await again.text(), /NAME_UNKNOWN/);
  });
});
