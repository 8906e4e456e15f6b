import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { useAzurite } from "../helpers/azurite.js";
import { randomBlob, sha256 } from "../helpers/content.js";
import { createTestRegistry, type TestRegistry } from "../helpers/registry.js";
import { assertBlob, assertBlobCreated, assertError, bytes, pushBlob, withQuery } from "./support.js";

describe("OCI Distribution: mounting blobs across repositories", () => {
  const azurite = useAzurite();
  let registry: TestRegistry;

  before(async () => {
    registry = await createTestRegistry(azurite().connectionString);
  });

  describe("Cross-repository mount: POST ?mount=<digest>&from=<name> (end-11)", () => {
    it("answers 201 with Location and Docker-Content-Digest when the source repository has the blob", async () => {
      const blob = randomBlob(128);
      await pushBlob(registry, "mount/source", blob.data);
      const response = await registry.fetch(`/v2/mount/target/blobs/uploads/?mount=${blob.digest}&from=mount/source`, {
        method: "POST",
      });
      assertBlobCreated(response, "mount/target", blob.digest);
      await assertBlob(registry, "mount/target", blob.digest, blob.data);
    });

    it("answers 202 with an upload session when the source does not link the blob", async () => {
      const blob = randomBlob(128);
      await pushBlob(registry, "mount/holder", blob.data);
      // the registry has the bytes, but not in `mount/empty`: mounting must not leak them
      const response = await registry.fetch(`/v2/mount/target2/blobs/uploads/?mount=${blob.digest}&from=mount/empty`, {
        method: "POST",
      });
      assert.equal(response.status, 202);
      const location = response.headers.get("location") ?? "";
      assert.match(location, /^\/v2\/mount\/target2\/blobs\/uploads\/[^/]+$/);
      await assertError(await registry.fetch(`/v2/mount/target2/blobs/${blob.digest}`), 404, "BLOB_UNKNOWN");
      // the session is a normal upload
      const put = await registry.fetch(withQuery(location, `digest=${blob.digest}`), {
        method: "PUT",
        body: bytes(blob.data),
      });
      assertBlobCreated(put, "mount/target2", blob.digest);
      await assertBlob(registry, "mount/target2", blob.digest, blob.data);
    });

    it("answers 202 when the digest is unknown to the registry", async () => {
      const response = await registry.fetch(
        `/v2/mount/target3/blobs/uploads/?mount=${sha256("unknown")}&from=mount/source`,
        { method: "POST" },
      );
      assert.equal(response.status, 202);
      assert.ok(response.headers.get("location"));
    });

    it("rejects an invalid `from` name with 400 NAME_INVALID", async () => {
      const response = await registry.fetch(`/v2/mount/target4/blobs/uploads/?mount=${sha256("x")}&from=Bad//Name`, {
        method: "POST",
      });
      await assertError(response, 400, "NAME_INVALID");
    });
  });
});
