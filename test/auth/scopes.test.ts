import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ADMIN_RULES, grantedAccess, parseRule } from "../../shared/auth/permissions.js";
import { matchesPattern } from "../../shared/lib/repository-pattern.js";
import { decoyHash, hashSecret, verifySecret } from "../../shared/auth/passwords.js";
import { formatScope, parseScope, parseScopes } from "../../shared/auth/scopes.js";
import { clientAddress } from "../../shared/http/client-address.js";
import { publicBaseUrl } from "../../shared/http/public-url.js";

/** Pure parts of auth: scopes, rules and patterns, password hashes, addresses and URLs. */
describe("auth building blocks", () => {
  describe("scopes", () => {
    it("parses repository and registry scopes, names with ports and slashes included", () => {
      assert.deepEqual(parseScope("repository:team/app:pull,push"), {
        type: "repository",
        name: "team/app",
        actions: ["pull", "push"],
      });
      assert.deepEqual(parseScope("registry:catalog:*"), { type: "registry", name: "catalog", actions: ["*"] });
      assert.deepEqual(parseScope("repository:localhost:5000/app:pull").name, "localhost:5000/app");
      assert.deepEqual(parseScope("repository(plugin):app:pull").type, "repository");
      assert.deepEqual(parseScope("repository:app:").actions, []);
    });

    it("rejects what is not a scope", () => {
      for (const bad of ["pull", "repository:app", "user:x:pull", "repository::pull", "repository:app:fly"]) {
        assert.throws(() => parseScope(bad), bad);
      }
    });

    it("splits space-separated scopes and round-trips them", () => {
      const scopes = parseScopes(["repository:a:pull repository:b:push", "registry:catalog:*"]);
      assert.deepEqual(scopes.map(formatScope), ["repository:a:pull", "repository:b:push", "registry:catalog:*"]);
    });
  });

  describe("rules and grants", () => {
    it("matches patterns: `*` spans slashes, nothing else is special", () => {
      assert.ok(matchesPattern("team/*", "team/app"));
      assert.ok(matchesPattern("team/*", "team/app/web"));
      assert.ok(!matchesPattern("team/*", "team"));
      assert.ok(!matchesPattern("team/*", "teams/app"));
      assert.ok(matchesPattern("*", "anything/at/all"));
      assert.ok(matchesPattern("team/app-*", "team/app-web"));
      assert.ok(!matchesPattern("team.app", "teamxapp"), "a dot is a dot");
      assert.ok(matchesPattern("team/app", "team/app"));
      assert.ok(!matchesPattern("team/app", "team/app2"));
    });

    it("parses CLI rules and their shorthands", () => {
      assert.deepEqual(parseRule("team/*:pull"), { type: "repository", name: "team/*", actions: ["pull"] });
      assert.deepEqual(parseRule("catalog"), { type: "registry", name: "catalog", actions: ["*"] });
      assert.deepEqual(parseRule("repository:x:*"), { type: "repository", name: "x", actions: ["*"] });
      for (const bad of ["team/*", "team/*:", "Team/*:pull", "registry:other:*", "team/*:fly"])
        assert.throws(() => parseRule(bad), bad);
    });

    it("grants the intersection, leaving out what is not allowed at all", () => {
      const rules = [parseRule("team/*:pull,push"), parseRule("team/secret:pull")];
      const granted = grantedAccess(
        parseScopes(["repository:team/app:pull,push,delete", "repository:other:pull", "registry:catalog:*"]),
        rules,
      );
      assert.deepEqual(granted, [{ type: "repository", name: "team/app", actions: ["pull", "push"] }]);
    });

    it("turns `*` asked into the actions allowed, and keeps `*` where everything is allowed", () => {
      assert.deepEqual(
        grantedAccess([parseScope("repository:team/a:*")], [parseRule("team/*:pull,delete")])[0]?.actions,
        ["pull", "delete"],
      );
      assert.deepEqual(grantedAccess([parseScope("repository:team/a:*")], ADMIN_RULES)[0]?.actions, ["*"]);
      assert.deepEqual(grantedAccess([parseScope("registry:catalog:*")], ADMIN_RULES)[0]?.actions, ["*"]);
    });

    it("merges repeated scopes for one repository and grants nothing on invalid names", () => {
      const granted = grantedAccess(
        parseScopes(["repository:a:pull", "repository:a:push", "repository:Bad_Name:pull"]),
        ADMIN_RULES,
      );
      assert.deepEqual(granted, [{ type: "repository", name: "a", actions: ["pull", "push"] }]);
    });
  });

  describe("password hashes", () => {
    it("verifies the right secret only, and never a malformed hash", async () => {
      const hash = await hashSecret("correct horse");
      assert.match(hash, /^scrypt\$32768\$8\$1\$/);
      assert.ok(await verifySecret("correct horse", hash));
      assert.ok(!(await verifySecret("correct hors", hash)));
      assert.ok(!(await verifySecret("correct horse", "plain-text")));
      assert.ok(!(await verifySecret("anything", await decoyHash())));
      assert.notEqual(await hashSecret("correct horse"), hash, "salted");
    });
  });

  describe("client address and public URL", () => {
    it("uses the adapter's address unless a proxy is trusted, then the last X-Forwarded-For entry", () => {
      const request = new Request("http://r.test/", { headers: { "x-forwarded-for": "6.6.6.6, 10.0.0.1:4444" } });
      const info = { clientAddress: "::ffff:127.0.0.1" };
      assert.equal(clientAddress(request, info, false), "127.0.0.1");
      assert.equal(clientAddress(request, info, true), "10.0.0.1");
      assert.equal(clientAddress(request, { clientAddress: undefined }, false), undefined);
    });

    it("derives the realm base from Host, forwarded headers when trusted, or the configured URL", () => {
      const request = new Request("http://internal:8080/v2/", {
        headers: { "x-forwarded-proto": "https", "x-forwarded-host": "registry.example.com" },
      });
      assert.equal(publicBaseUrl(request, { publicUrl: undefined, trustProxy: false }), "http://internal:8080");
      assert.equal(publicBaseUrl(request, { publicUrl: undefined, trustProxy: true }), "https://registry.example.com");
      assert.equal(
        publicBaseUrl(request, { publicUrl: "https://cr.example.org/", trustProxy: true }),
        "https://cr.example.org",
      );
      const injected = new Request("http://internal/", { headers: { "x-forwarded-host": 'evil"/,x="' } });
      assert.equal(publicBaseUrl(injected, { publicUrl: undefined, trustProxy: true }), "http://internal");
    });
  });
});
