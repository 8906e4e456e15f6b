import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { useAzurite } from "../helpers/azurite.js";
import { randomBlob } from "../helpers/content.js";
import { pushBlob, pushImage } from "../protocol/support.js";
import {
  adminToken,
  as,
  assertChallenge,
  bearer,
  claims,
  createAuthRegistry,
  getToken,
  postToken,
  type AuthRegistry,
} from "./support.js";

/**
 * What a token lets through, checked on every request against the exact repository and
 * action: repository-scoped access tokens (a pull-only one is what a Kubernetes pull secret
 * holds), isolation between repositories, the catalog, and anonymous pull.
 */
describe("authorization on the registry", () => {
  const azurite = useAzurite();
  let registry: AuthRegistry;
  let pullSecret: string;
  let teamASecret: string;
  let image: { manifest: string; digest: string };
  let teamBBlob: string;

  before(async () => {
    registry = await createAuthRegistry(azurite().connectionString);
    const admin = await adminToken(registry, ["repository:team/a:pull,push", "repository:team/b:pull,push"]);
    image = await pushImage(as(registry, admin), "team/a", "1");
    await pushImage(as(registry, admin), "team/b", "1");
    teamBBlob = await pushBlob(as(registry, admin), "team/b", randomBlob(1000).data);
    pullSecret = await registry.auth.admin.createToken({ name: "k8s-nodes", access: ["team/*:pull"] });
    teamASecret = await registry.auth.admin.createToken({ name: "ci-team-a", access: ["team/a:pull,push,delete"] });
  });

  describe("a pull-only access token", () => {
    let token: string;
    before(async () => {
      // containerd asks for push too when it pushes: it gets only pull
      const response = await postToken(registry, {
        grant_type: "password",
        username: "k8s-nodes",
        password: pullSecret,
        client_id: "containerd-client",
        scope: "repository:team/a:pull,push,delete",
      });
      token = ((await response.json()) as { access_token: string }).access_token;
      assert.deepEqual(claims(token).access, [{ type: "repository", name: "team/a", actions: ["pull"] }]);
    });

    it("pulls manifests and blobs", async () => {
      const response = await registry.fetch("/v2/team/a/manifests/1", { headers: bearer(token) });
      assert.equal(response.status, 200);
      assert.equal(await response.text(), image.manifest);
    });

    it("cannot push: 401 insufficient_scope naming what the request needs", async () => {
      await assertChallenge(
        await registry.fetch("/v2/team/a/blobs/uploads/", { method: "POST", headers: bearer(token) }),
        "repository:team/a:pull,push",
        "insufficient_scope",
      );
      await assertChallenge(
        await registry.fetch("/v2/team/a/manifests/2", {
          method: "PUT",
          headers: { ...bearer(token), "content-type": "application/vnd.oci.image.manifest.v1+json" },
          body: image.manifest,
        }),
        "repository:team/a:pull,push",
        "insufficient_scope",
      );
    });

    it("cannot delete", async () => {
      await assertChallenge(
        await registry.fetch(`/v2/team/a/manifests/${image.digest}`, { method: "DELETE", headers: bearer(token) }),
        "repository:team/a:delete",
        "insufficient_scope",
      );
      assert.equal(
        (await registry.fetch("/v2/team/a/manifests/1", { headers: bearer(token) })).status,
        200,
        "still there",
      );
    });

    it("gets nothing pushable however it asks", async () => {
      const reply = await getToken(registry, "k8s-nodes", pullSecret, [
        "repository:team/a:*",
        "repository:team/new:push",
      ]);
      assert.deepEqual(claims(reply.token).access, [{ type: "repository", name: "team/a", actions: ["pull"] }]);
    });
  });

  describe("a token for team/a", () => {
    let token: string;
    before(async () => {
      token = (
        await getToken(registry, "ci-team-a", teamASecret, ["repository:team/a:pull,push", "repository:team/b:pull"])
      ).token;
      assert.deepEqual(claims(token).access, [{ type: "repository", name: "team/a", actions: ["pull", "push"] }]);
    });

    it("cannot read team/b, not even a blob by the digest that exists there", async () => {
      await assertChallenge(
        await registry.fetch(`/v2/team/b/blobs/${teamBBlob}`, { headers: bearer(token) }),
        "repository:team/b:pull",
        "insufficient_scope",
      );
      await assertChallenge(
        await registry.fetch("/v2/team/b/tags/list", { headers: bearer(token) }),
        "repository:team/b:pull",
        "insufficient_scope",
      );
    });

    it("does not see team/b's blob through team/a", async () => {
      const response = await registry.fetch(`/v2/team/a/blobs/${teamBBlob}`, { headers: bearer(token) });
      assert.equal(response.status, 404);
    });

    it("cannot mount team/b's blob into team/a (the mount becomes a plain upload)", async () => {
      const response = await registry.fetch(`/v2/team/a/blobs/uploads/?mount=${teamBBlob}&from=team/b`, {
        method: "POST",
        headers: bearer(token),
      });
      assert.equal(response.status, 202);
      assert.equal((await registry.fetch(`/v2/team/a/blobs/${teamBBlob}`, { headers: bearer(token) })).status, 404);
    });

    it("cannot use a token for one repository on another whose name merely starts the same", async () => {
      await assertChallenge(
        await registry.fetch("/v2/team/a2/manifests/1", { headers: bearer(token) }),
        "repository:team/a2:pull",
        "insufficient_scope",
      );
    });
  });

  describe("the catalog", () => {
    it("needs registry:catalog:*", async () => {
      const repositoryOnly = await adminToken(registry, ["repository:team/a:pull"]);
      await assertChallenge(
        await registry.fetch("/v2/_catalog", { headers: bearer(repositoryOnly) }),
        "registry:catalog:*",
        "insufficient_scope",
      );
      const catalog = await adminToken(registry, ["registry:catalog:*"]);
      const response = await registry.fetch("/v2/_catalog", { headers: bearer(catalog) });
      assert.equal(response.status, 200);
      assert.deepEqual(((await response.json()) as { repositories: string[] }).repositories, ["team/a", "team/b"]);
    });

    it("is not granted to access tokens without the catalog rule", async () => {
      const reply = await getToken(registry, "k8s-nodes", pullSecret, ["registry:catalog:*"]);
      assert.deepEqual(claims(reply.token).access, []);
    });
  });

  it("any valid token passes GET /v2/", async () => {
    const token = (await getToken(registry, "k8s-nodes", pullSecret)).token;
    assert.equal((await registry.fetch("/v2/", { headers: bearer(token) })).status, 200);
  });

  it("an expired access token (identity) can no longer log in", async () => {
    let now = Date.now();
    const clocked = await createAuthRegistry(azurite().connectionString, {}, () => now);
    const secret = await clocked.auth.admin.createToken({
      name: "short",
      access: ["x/*:pull"],
      expiresAt: new Date(now + 60_000),
    });
    await getToken(clocked, "short", secret);
    now += 61_000;
    const response = await clocked.fetch("/token", {
      headers: { authorization: `Basic ${Buffer.from(`short:${secret}`).toString("base64")}` },
    });
    assert.equal(response.status, 401);
  });

  describe("anonymous pull (STOWAGE_ANONYMOUS_PULL=public/*)", () => {
    let open: AuthRegistry;
    before(async () => {
      open = await createAuthRegistry(azurite().connectionString, { STOWAGE_ANONYMOUS_PULL: "public/*" });
      const admin = await adminToken(open, ["repository:public/app:pull,push", "repository:private/app:pull,push"]);
      await pushImage(as(open, admin), "public/app", "1");
      await pushImage(as(open, admin), "private/app", "1");
    });

    it("pulls public repositories without credentials", async () => {
      assert.equal((await open.fetch("/v2/public/app/manifests/1")).status, 200);
    });

    it("still challenges for private repositories, pushes and GET /v2/", async () => {
      await assertChallenge(await open.fetch("/v2/private/app/manifests/1"), "repository:private/app:pull");
      await assertChallenge(
        await open.fetch("/v2/public/app/blobs/uploads/", { method: "POST" }),
        "repository:public/app:pull,push",
      );
      await assertChallenge(await open.fetch("/v2/"));
    });

    it("issues anonymous tokens with pull on public repositories only", async () => {
      const response = await open.fetch(
        "/token?service=stowage&scope=repository:public/app:pull,push&scope=repository:private/app:pull",
      );
      assert.equal(response.status, 200);
      const { token } = (await response.json()) as { token: string };
      assert.equal(claims(token).sub, "anonymous");
      assert.deepEqual(claims(token).access, [{ type: "repository", name: "public/app", actions: ["pull"] }]);
      assert.equal((await open.fetch("/v2/public/app/manifests/1", { headers: bearer(token) })).status, 200);
    });

    it("without it, asking for a token without credentials is refused", async () => {
      assert.equal((await registry.fetch("/token?scope=repository:team/a:pull")).status, 401);
    });
  });
});
