import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { useAzurite } from "../helpers/azurite.js";
import { pushImage } from "../protocol/support.js";
import {
  ADMIN_PASSWORD,
  as,
  assertChallenge,
  basic,
  bearer,
  claims,
  createAuthRegistry,
  getToken,
  postToken,
  type AuthRegistry,
  type TokenReply,
} from "./support.js";

/**
 * The token endpoint as each client uses it (Docker token spec and its OAuth2 form), and the
 * challenge that sends clients there.
 */
describe("token endpoint (/token)", () => {
  const azurite = useAzurite();
  let registry: AuthRegistry;

  before(async () => {
    registry = await createAuthRegistry(azurite().connectionString);
    await registry.auth.admin.addUser({ name: "dev", access: ["team/*:pull,push"] }, "dev-password");
  });

  describe("the challenge", () => {
    it("GET /v2/ without credentials: 401 with realm and service, no scope", async () => {
      await assertChallenge(await registry.fetch("/v2/"));
    });

    it("a repository request: 401 naming the scope it needs", async () => {
      await assertChallenge(await registry.fetch("/v2/team/app/manifests/1"), "repository:team/app:pull");
      await assertChallenge(
        await registry.fetch("/v2/team/app/blobs/uploads/", { method: "POST" }),
        "repository:team/app:pull,push",
      );
      await assertChallenge(await registry.fetch("/v2/_catalog"), "registry:catalog:*");
    });

    it("HEAD gets the challenge header without a body", async () => {
      const response = await registry.fetch("/v2/team/app/manifests/1", { method: "HEAD" });
      assert.equal(response.status, 401);
      assert.ok(response.headers.get("www-authenticate"));
    });

    it("Basic credentials sent to the registry itself are checked there (`curl -u`, see test/ui)", async () => {
      const response = await registry.fetch("/v2/", { headers: { authorization: basic("admin", ADMIN_PASSWORD) } });
      assert.equal(response.status, 200);
      // what registry clients see is unchanged: no credentials, the Bearer challenge
      await assertChallenge(await registry.fetch("/v2/"));
    });
  });

  describe("GET with Basic auth (docker login, skopeo, podman)", () => {
    it("answers token, access_token, expires_in >= 60 and issued_at", async () => {
      const reply = await getToken(registry, "dev", "dev-password", ["repository:team/app:pull"]);
      assert.equal(reply.token, reply.access_token);
      assert.ok(reply.expires_in >= 60);
      assert.ok(Math.abs(Date.parse(reply.issued_at) - Date.now()) < 60_000, reply.issued_at);
      assert.equal(reply.refresh_token, undefined, "no refresh token unless offline access was asked");
    });

    it("puts the standard claims in an ES256 token with a kid", async () => {
      const { token } = await getToken(registry, "dev", "dev-password", ["repository:team/app:pull,push"]);
      const header = JSON.parse(Buffer.from(token.split(".")[0] as string, "base64url").toString());
      assert.equal(header.alg, "ES256");
      assert.ok(header.kid);
      const c = claims(token);
      for (const claim of ["iss", "sub", "aud", "exp", "nbf", "iat", "jti", "access"]) assert.ok(claim in c, claim);
      assert.equal(c.sub, "dev");
      assert.equal(c.aud, "stowage");
      assert.deepEqual(c.access, [{ type: "repository", name: "team/app", actions: ["pull", "push"] }]);
    });

    it("grants the intersection of what was asked and what is allowed; unknown repositories are not errors", async () => {
      const reply = await getToken(registry, "dev", "dev-password", [
        "repository:team/app:pull,push,delete",
        "repository:other/app:pull",
        "registry:catalog:*",
      ]);
      assert.deepEqual(claims(reply.token).access, [
        { type: "repository", name: "team/app", actions: ["pull", "push"] },
      ]);
    });

    it("takes repeated scope parameters, and several scopes in one", async () => {
      const reply = await getToken(registry, "admin", ADMIN_PASSWORD, [
        "repository:a/one:pull repository:a/two:pull",
        "repository:a/three:push",
      ]);
      assert.deepEqual(
        (claims(reply.token).access as { name: string }[]).map((a) => a.name),
        ["a/one", "a/two", "a/three"],
      );
    });

    it("refuses wrong passwords, unknown users and missing credentials with 401 and a Basic challenge", async () => {
      for (const authorization of [basic("dev", "wrong-password"), basic("nobody", "whatever"), undefined]) {
        const response = await registry.fetch(
          "/token?service=stowage",
          authorization ? { headers: { authorization } } : {},
        );
        assert.equal(response.status, 401);
        assert.match(response.headers.get("www-authenticate") ?? "", /^Basic realm="http:\/\/registry\.test\/token"/);
        assert.equal(((await response.json()) as { errors: { code: string }[] }).errors[0]?.code, "UNAUTHORIZED");
      }
    });

    it("rejects a malformed scope, another service, and an account that is not the user with 400", async () => {
      const auth = { headers: { authorization: basic("dev", "dev-password") } };
      for (const query of ["scope=nonsense", "scope=repository:x:fly", "service=elsewhere", "account=admin"]) {
        const response = await registry.fetch(`/token?${query}`, auth);
        assert.equal(response.status, 400, query);
      }
    });

    it("never lets the token be cached", async () => {
      const response = await registry.fetch("/token", { headers: { authorization: basic("dev", "dev-password") } });
      assert.equal(response.headers.get("cache-control"), "no-store");
    });
  });

  describe("docker login, then push and pull with the refresh token (POST grant_type=refresh_token)", () => {
    let login: TokenReply;

    before(async () => {
      // what `docker login` sends: no scope, offline_token, client_id=docker
      login = await getToken(registry, "dev", "dev-password", [], "offline_token=true&client_id=docker");
    });

    it("the login reply carries a refresh token", () => {
      assert.match(login.refresh_token ?? "", /^[0-9a-f]{32}\.[A-Za-z0-9_-]{43}$/);
      assert.deepEqual(claims(login.token).access, []);
    });

    it("the refresh token buys access tokens that push and pull", async () => {
      const response = await postToken(registry, {
        grant_type: "refresh_token",
        refresh_token: login.refresh_token as string,
        service: "stowage",
        client_id: "docker",
        scope: "repository:team/docker:pull,push",
      });
      const reply = (await response.json()) as TokenReply;
      assert.equal(response.status, 200);
      assert.equal(reply.refresh_token, undefined, "not rotated: Docker keeps the one from login");
      const image = await pushImage(as(registry, reply.access_token), "team/docker", "1");
      const pulled = await registry.fetch("/v2/team/docker/manifests/1", { headers: bearer(reply.access_token) });
      assert.equal(pulled.status, 200);
      assert.equal(await pulled.text(), image.manifest);
    });

    it("a made-up or altered refresh token is refused", async () => {
      const altered = `${login.refresh_token?.slice(0, -1)}${login.refresh_token?.endsWith("A") ? "B" : "A"}`;
      for (const refresh_token of ["0123", altered]) {
        const response = await postToken(registry, { grant_type: "refresh_token", refresh_token, client_id: "docker" });
        assert.equal(response.status, 401, refresh_token);
      }
    });
  });

  describe("POST grant_type=password (containerd, Kubernetes nodes)", () => {
    it("answers access_token for the space-separated scopes", async () => {
      const response = await postToken(registry, {
        grant_type: "password",
        username: "dev",
        password: "dev-password",
        client_id: "containerd-client",
        service: "stowage",
        scope: "repository:team/ctr:pull,push repository:team/other:pull",
      });
      assert.equal(response.status, 200);
      const reply = (await response.json()) as TokenReply;
      assert.ok(reply.access_token);
      assert.equal(reply.refresh_token, undefined);
      assert.deepEqual(claims(reply.access_token).access, [
        { type: "repository", name: "team/ctr", actions: ["pull", "push"] },
        { type: "repository", name: "team/other", actions: ["pull"] },
      ]);
      await pushImage(as(registry, reply.access_token), "team/ctr", "1");
    });

    it("issues a refresh token for access_type=offline", async () => {
      const response = await postToken(registry, {
        grant_type: "password",
        username: "dev",
        password: "dev-password",
        client_id: "x",
        access_type: "offline",
      });
      assert.ok(((await response.json()) as TokenReply).refresh_token);
    });

    it("refuses a wrong password with 401 (containerd then tries GET, which fails too)", async () => {
      const response = await postToken(registry, {
        grant_type: "password",
        username: "dev",
        password: "nope",
        client_id: "containerd-client",
      });
      assert.equal(response.status, 401);
      const body = (await response.json()) as Record<string, unknown>;
      assert.equal(body.error, "invalid_grant", "the RFC 6749 error code OAuth2 clients read");
      assert.equal(typeof body.error_description, "string");
    });

    it("refuses an unsupported grant type or a body that is not a form with 400 and an RFC 6749 error body", async () => {
      const grant = await postToken(registry, { grant_type: "client_credentials" });
      assert.equal(grant.status, 400);
      const grantBody = (await grant.json()) as { error: string; errors: { code: string }[] };
      assert.equal(grantBody.error, "unsupported_grant_type");
      assert.equal(grantBody.errors[0]?.code, "UNSUPPORTED", "and the registry's error array GET clients read");
      const json = await registry.fetch("/token", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      assert.equal(json.status, 400);
      assert.equal(((await json.json()) as { error: string }).error, "invalid_request");
      const scope = await postToken(registry, { grant_type: "password", username: "dev", password: "x", scope: "bad" });
      assert.equal(((await scope.json()) as { error: string }).error, "invalid_scope");
    });
  });

  describe("refresh token revocation", () => {
    const offline = async (user: string, password: string) =>
      (await getToken(registry, user, password, [], "offline_token=true&client_id=docker")).refresh_token as string;
    const refresh = (refresh_token: string) =>
      postToken(registry, { grant_type: "refresh_token", refresh_token, client_id: "docker" });

    before(async () => {
      await registry.auth.admin.addUser({ name: "leaver", access: ["team/*:pull"] }, "leaver-password");
    });

    it("one token can be revoked", async () => {
      const token = await offline("leaver", "leaver-password");
      assert.equal((await refresh(token)).status, 200);
      assert.ok(await registry.auth.tokens.revoke(token));
      assert.equal((await refresh(token)).status, 401);
    });

    it("logging a user out revokes all of its refresh tokens", async () => {
      const tokens = [await offline("leaver", "leaver-password"), await offline("leaver", "leaver-password")];
      assert.equal(await registry.auth.admin.logout("leaver"), 2);
      for (const token of tokens) assert.equal((await refresh(token)).status, 401);
    });

    it("a new password voids the refresh tokens issued under the old one", async () => {
      const token = await offline("leaver", "leaver-password");
      await registry.auth.admin.setPassword("leaver", "new-leaver-password");
      assert.equal((await refresh(token)).status, 401);
      assert.equal((await refresh(await offline("leaver", "new-leaver-password"))).status, 200);
    });

    it("removing the user voids its refresh tokens, even if the name comes back", async () => {
      const token = await offline("leaver", "new-leaver-password");
      await registry.auth.admin.remove("leaver", "user");
      assert.equal((await refresh(token)).status, 401);
      await registry.auth.admin.addUser({ name: "leaver", access: [] }, "leaver-password");
      assert.equal((await refresh(token)).status, 401);
    });
  });

  it("publishes the public signing keys as a JWKS", async () => {
    const response = await registry.fetch("/token/jwks");
    assert.equal(response.status, 200);
    const { keys } = (await response.json()) as { keys: Record<string, string>[] };
    assert.equal(keys.length, 1);
    assert.equal(keys[0]?.kty, "EC");
    assert.equal(keys[0]?.alg, "ES256");
    assert.equal(keys[0]?.d, undefined, "no private part");
  });

  it("answers other methods with 405", async () => {
    assert.equal((await registry.fetch("/token", { method: "PUT" })).status, 405);
  });
});
