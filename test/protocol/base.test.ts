import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { useAzurite } from "../helpers/azurite.js";
import { createTestRegistry, type TestRegistry } from "../helpers/registry.js";

describe("OCI Distribution: the API base endpoint", () => {
  const azurite = useAzurite();
  let registry: TestRegistry;

  before(async () => {
    registry = await createTestRegistry(azurite().connectionString);
  });

  describe("API version check (end-1: GET /v2/)", () => {
    it("answers GET /v2/ with 200 and Docker-Distribution-API-Version: registry/2.0", async () => {
      const response = await registry.fetch("/v2/");
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("docker-distribution-api-version"), "registry/2.0");
      assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
      assert.deepEqual(await response.json(), {});
    });

    it("answers /v2 without the trailing slash the same way", async () => {
      const response = await registry.fetch("/v2");
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("docker-distribution-api-version"), "registry/2.0");
      await response.body?.cancel();
    });

    it("answers HEAD /v2/ with 200, the version header and no body", async () => {
      const response = await registry.fetch("/v2/", { method: "HEAD" });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("docker-distribution-api-version"), "registry/2.0");
      assert.equal(await response.text(), "");
    });

    it("sends the version header on error responses too", async () => {
      const response = await registry.fetch("/v2/library/absent/manifests/latest");
      assert.equal(response.status, 404);
      assert.equal(response.headers.get("docker-distribution-api-version"), "registry/2.0");
      await response.body?.cancel();
    });
  });
});
