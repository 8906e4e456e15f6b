import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { useAzurite } from "../helpers/azurite.js";
import type { TestRegistry } from "../helpers/registry.js";
import { pushImage } from "../protocol/support.js";
import {
  ADMIN_PASSWORD,
  assertChallenge,
  basic,
  createAuthRegistry,
  postToken,
  type AuthRegistry,
} from "../auth/support.js";

/**
 * People browse the v2 API with `curl -u` and with a browser: Basic credentials on `/v2/*`,
 * checked per request with the token endpoint's own login, throttle and rules. Registry
 * clients, which never send Basic there and never ask for HTML, see no change.
 */
describe("Basic credentials on the v2 API", () => {
  const azurite = useAzurite();
  let registry: AuthRegistry;
  const admin = { authorization: basic("admin", ADMIN_PASSWORD) };

  before(async () => {
    registry = await createAuthRegistry(azurite().connectionString, {
      STOWAGE_LOGIN_MAX_FAILURES: "3",
      STOWAGE_LOGIN_LOCKOUT_SECONDS: "60",
    });
    // the admin pushes with Basic credentials, as curl would
    const asAdmin: TestRegistry = {
      handle: registry.app.handle,
      config: registry.config,
      fetch: (path, init) => registry.fetch(path, { ...init, headers: { ...admin, ...(init?.headers ?? {}) } }),
    };
    await pushImage(asAdmin, "team/app", "1");
    await pushImage(asAdmin, "team/app", "2");
    await pushImage(asAdmin, "secret/db", "1");
    await registry.auth.admin.addUser({ name: "alice", access: ["team/*:pull"] }, "alice-password");
  });

  it("answers `curl -u` on _catalog and tags/list", async () => {
    const catalog = await registry.fetch("/v2/_catalog", { headers: admin });
    assert.equal(catalog.status, 200);
    assert.deepEqual(await catalog.json(), { repositories: ["secret/db", "team/app"] });
    const tags = await registry.fetch("/v2/team/app/tags/list", { headers: admin });
    assert.equal(tags.status, 200);
    assert.deepEqual(await tags.json(), { name: "team/app", tags: ["1", "2"] });
  });

  it("applies the identity's rules: what it may not do is DENIED, whether the repository exists or not", async () => {
    const alice = { authorization: basic("alice", "alice-password") };
    assert.equal((await registry.fetch("/v2/team/app/tags/list", { headers: alice })).status, 200);
    for (const path of ["/v2/secret/db/tags/list", "/v2/nothing/here/tags/list", "/v2/_catalog"]) {
      const response = await registry.fetch(path, { headers: alice });
      assert.equal(response.status, 403, path);
      assert.equal(((await response.json()) as { errors: { code: string }[] }).errors[0]?.code, "DENIED");
    }
    const push = await registry.fetch("/v2/team/app/blobs/uploads/", { method: "POST", headers: alice });
    assert.equal(push.status, 403, "pull-only rules cannot push");
  });

  it("challenges a browser with Basic, and registry clients with exactly the Bearer challenge", async () => {
    const html = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    const browser = await registry.fetch("/v2/_catalog", { headers: { accept: html } });
    assert.equal(browser.status, 401);
    assert.equal(browser.headers.get("www-authenticate"), 'Basic realm="stowage",charset="UTF-8"');
    await assertChallenge(await registry.fetch("/v2/_catalog"), "registry:catalog:*");
    await assertChallenge(await registry.fetch("/v2/", { headers: { accept: "application/json" } }));
    // a wrong password gets a Basic challenge back (it spoke Basic), never a token hint
    const wrong = await registry.fetch("/v2/", { headers: { authorization: basic("alice", "nope-nope") } });
    assert.equal(wrong.status, 401);
    assert.match(wrong.headers.get("www-authenticate") ?? "", /^Basic /);
  });

  it("throttles wrong passwords like token logins, and the counters are the same ones", async () => {
    await registry.auth.admin.addUser({ name: "bob", access: ["team/*:pull"] }, "bob-password");
    const from = "198.51.100.7";
    const attempt = () =>
      registry.fetchFrom(from, "/v2/team/app/tags/list", { headers: { authorization: basic("bob", "guess-1") } });
    for (let i = 0; i < 3; i++) assert.equal((await attempt()).status, 401, `failure ${i + 1} is a plain 401`);
    const throttled = await attempt();
    assert.equal(throttled.status, 429);
    assert.ok(Number(throttled.headers.get("retry-after")) >= 1, "Retry-After");
    // the token endpoint sees the same lock
    const token = await registry.fetchFrom(from, "/token?service=stowage", {
      headers: { authorization: basic("bob", "bob-password") },
    });
    assert.equal(token.status, 429, "the token endpoint shares the throttle");
  });

  it("revokes a refresh token at /token/revoke (the web UI's sign-out)", async () => {
    const login = await postToken(registry, {
      grant_type: "password",
      username: "alice",
      password: "alice-password",
      client_id: "stowage-ui",
      access_type: "offline",
    });
    const { refresh_token } = (await login.json()) as { refresh_token: string };
    const refresh = () => postToken(registry, { grant_type: "refresh_token", refresh_token, client_id: "stowage-ui" });
    assert.equal((await refresh()).status, 200);
    const revoke = await registry.fetch("/token/revoke", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: refresh_token }).toString(),
    });
    assert.equal(revoke.status, 200);
    assert.equal((await refresh()).status, 401, "revoked");
  });
});
