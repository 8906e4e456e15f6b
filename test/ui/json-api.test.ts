import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { useAzurite } from "../helpers/azurite.js";
import type { TestRegistry } from "../helpers/registry.js";
import { OCI_INDEX, pushImage, pushManifest } from "../protocol/support.js";
import { ADMIN_PASSWORD, basic, bearer, createAuthRegistry, getToken, type AuthRegistry } from "../auth/support.js";
import { CONTENT_SECURITY_POLICY } from "../../shared/http/ui/ui-app.js";

/** The web UI's JSON API (`/api/v1/...`) and its page: same identities and rules as the v2 API. */
describe("web UI: JSON API and page", () => {
  const azurite = useAzurite();
  let registry: AuthRegistry;
  const admin = { authorization: basic("admin", ADMIN_PASSWORD) };
  const alice = { authorization: basic("alice", "alice-password") };
  let imageDigest = "";

  before(async () => {
    registry = await createAuthRegistry(azurite().connectionString);
    const asAdmin: TestRegistry = {
      handle: registry.app.handle,
      config: registry.config,
      fetch: (path, init) => registry.fetch(path, { ...init, headers: { ...admin, ...(init?.headers ?? {}) } }),
    };
    for (let i = 0; i < 12; i++) await pushImage(asAdmin, "team/many", `v${String(i).padStart(2, "0")}`);
    imageDigest = (await pushImage(asAdmin, "team/app", "1")).digest;
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          digest: imageDigest,
          size: 1,
          platform: { os: "linux", architecture: "amd64" },
        },
      ],
    });
    await pushManifest(asAdmin, "team/app", "multi", index, OCI_INDEX);
    await pushImage(asAdmin, "secret/db", "1");
    await registry.auth.admin.addUser({ name: "alice", access: ["team/*:pull"] }, "alice-password");
  });

  const json = async (response: Response) => {
    const text = await response.text();
    assert.equal(response.status, 200, text);
    return JSON.parse(text) as Record<string, unknown>;
  };

  it("lists only the repositories the caller may pull, with figures, by prefix and page", async () => {
    const all = await json(await registry.fetch("/api/v1/repositories", { headers: admin }));
    assert.deepEqual(
      (all.repositories as { name: string }[]).map((r) => r.name),
      ["secret/db", "team/app", "team/many"],
    );
    const mine = await json(await registry.fetch("/api/v1/repositories", { headers: alice }));
    const repos = mine.repositories as {
      name: string;
      tags: number;
      complete: boolean;
      lastPushAt: string;
      blobBytes: number;
    }[];
    assert.deepEqual(
      repos.map((r) => r.name),
      ["team/app", "team/many"],
    );
    assert.equal(repos[1]?.tags, 12);
    assert.equal(repos[1]?.complete, true);
    assert.ok(repos[1] && repos[1].blobBytes > 0 && Date.parse(repos[1].lastPushAt) > 0);
    const first = await json(await registry.fetch("/api/v1/repositories?n=1", { headers: alice }));
    assert.equal(first.next, "team/app");
    const second = await json(await registry.fetch("/api/v1/repositories?n=1&last=team/app", { headers: alice }));
    assert.deepEqual(
      (second.repositories as { name: string }[]).map((r) => r.name),
      ["team/many"],
    );
    assert.equal(second.next, undefined, "the last page says so");
    const prefixed = await json(await registry.fetch("/api/v1/repositories?prefix=secret/", { headers: alice }));
    assert.deepEqual(prefixed.repositories, [], "a prefix never widens what may be seen");
  });

  it("pages tags with push times, sizes and the platforms of an index", async () => {
    const page = await json(await registry.fetch("/api/v1/repositories/team/many/tags?n=5", { headers: alice }));
    const tags = page.tags as { tag: string; pushedAt: string; imageSize: number; manifestSize: number }[];
    assert.deepEqual(
      tags.map((t) => t.tag),
      ["v00", "v01", "v02", "v03", "v04"],
    );
    assert.equal(page.more, true);
    assert.ok(Date.parse(tags[0]?.pushedAt ?? "") > 0);
    assert.ok((tags[0]?.imageSize ?? 0) > (tags[0]?.manifestSize ?? 0), "image size counts config and layers");
    const rest = await json(
      await registry.fetch("/api/v1/repositories/team/many/tags?n=50&last=v04", { headers: alice }),
    );
    assert.equal((rest.tags as unknown[]).length, 7);
    assert.equal(rest.more, false);
    const app = await json(await registry.fetch("/api/v1/repositories/team/app/tags", { headers: alice }));
    const multi = (app.tags as { tag: string; platforms?: unknown }[]).find((t) => t.tag === "multi");
    assert.deepEqual(multi?.platforms, [{ os: "linux", architecture: "amd64" }]);
    const denied = await registry.fetch("/api/v1/repositories/secret/db/tags", { headers: alice });
    assert.equal(denied.status, 403);
  });

  it("works with bearer tokens from the token endpoint, challenging for the scope it needs", async () => {
    const { token } = await getToken(registry, "alice", "alice-password", []);
    const challenged = await registry.fetch("/api/v1/repositories/team/app/tags", { headers: bearer(token) });
    assert.equal(challenged.status, 401);
    assert.match(challenged.headers.get("www-authenticate") ?? "", /scope="repository:team\/app:pull"/);
    const scoped = await getToken(registry, "alice", "alice-password", ["repository:team/app:pull"]);
    assert.equal(
      (await registry.fetch("/api/v1/repositories/team/app/tags", { headers: bearer(scoped.token) })).status,
      200,
    );
    assert.equal((await registry.fetch("/api/v1/repositories", { headers: bearer(token) })).status, 200);
  });

  it("keeps the admin API to administrators: tokens created there log in, their secret shown once", async () => {
    assert.equal((await registry.fetch("/api/v1/admin/identities", { headers: alice })).status, 403);
    const aliceToken = await getToken(registry, "alice", "alice-password", ["registry:admin:*"]);
    assert.equal(aliceToken.scope, "", "registry:admin is not granted to alice");
    const adminToken = await getToken(registry, "admin", ADMIN_PASSWORD, ["registry:admin:*"]);
    assert.equal(adminToken.scope, "registry:admin:*");

    const created = await registry.fetch("/api/v1/admin/tokens", {
      method: "POST",
      headers: { ...bearer(adminToken.token), "content-type": "application/json" },
      body: JSON.stringify({ name: "k8s-nodes", access: ["team/*:pull"], expiresInDays: 30 }),
    });
    assert.equal(created.status, 201);
    const { secret } = (await created.json()) as { secret: string };
    assert.match(secret, /^stw_/);
    const pulled = await getToken(registry, "k8s-nodes", secret, ["repository:team/app:pull,push"]);
    assert.equal(pulled.scope, "repository:team/app:pull");

    const listed = await json(await registry.fetch("/api/v1/admin/identities", { headers: admin }));
    const token = (listed.tokens as { name: string; access: string[]; expiresAt?: string }[])[0];
    assert.equal(token?.name, "k8s-nodes");
    assert.deepEqual(token?.access, ["repository:team/*:pull"]);
    assert.ok(token?.expiresAt);
    assert.ok(!JSON.stringify(listed).includes("secretHash"), "no hashes leave the server");

    const bad = await registry.fetch("/api/v1/admin/users", {
      method: "POST",
      headers: { ...admin, "content-type": "application/json" },
      body: JSON.stringify({ name: "carol", access: ["not a rule"] }),
    });
    assert.equal(bad.status, 400);
    const removed = await registry.fetch("/api/v1/admin/tokens/k8s-nodes", { method: "DELETE", headers: admin });
    assert.equal(removed.status, 204);
    const hooks = await json(await registry.fetch("/api/v1/admin/webhooks", { headers: admin }));
    assert.deepEqual(hooks, { subscriptions: [], deadLetters: [] });
  });

  it("serves the page and its assets with a strict Content-Security-Policy", async () => {
    const page = await registry.fetch("/");
    assert.equal(page.status, 200);
    assert.equal(page.headers.get("content-security-policy"), CONTENT_SECURITY_POLICY);
    assert.doesNotMatch(CONTENT_SECURITY_POLICY, /unsafe|\*|http/);
    const html = await page.text();
    assert.doesNotMatch(html, /<script>|<style>|style=|https?:\/\//, "nothing inline, nothing from elsewhere");
    const script = /src="(\/ui\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(script);
    const asset = await registry.fetch(script);
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get("content-type") ?? "", /^text\/javascript/);
    assert.match(asset.headers.get("cache-control") ?? "", /immutable/);
    assert.equal((await registry.fetch("/ui/../../package.json")).status, 404);
    assert.equal((await registry.fetch("/ui/nothing.js")).status, 404);
  });
});
