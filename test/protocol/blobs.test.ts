import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { useAzurite } from "../helpers/azurite.js";
import { randomBlob, sha256 } from "../helpers/content.js";
import { createTestRegistry, type TestRegistry } from "../helpers/registry.js";
import { assertError, bodyBytes, EMPTY_DIGEST, pushBlob } from "./support.js";

describe("OCI Distribution: pulling blobs", () => {
  const azurite = useAzurite();
  let registry: TestRegistry;
  const repo = "pull/blobs";
  const blob = randomBlob(1000);

  before(async () => {
    registry = await createTestRegistry(azurite().connectionString);
    await pushBlob(registry, repo, blob.data);
  });

  describe("Pulling blobs (end-2: GET/HEAD /v2/<name>/blobs/<digest>)", () => {
    it("HEAD answers 200 with Content-Length, Docker-Content-Digest and no body", async () => {
      const response = await registry.fetch(`/v2/${repo}/blobs/${blob.digest}`, { method: "HEAD" });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-length"), "1000");
      assert.equal(response.headers.get("docker-content-digest"), blob.digest);
      assert.equal(await response.text(), "");
    });

    it("GET answers 200 with exactly the uploaded bytes", async () => {
      const response = await registry.fetch(`/v2/${repo}/blobs/${blob.digest}`);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-length"), "1000");
      assert.equal(response.headers.get("docker-content-digest"), blob.digest);
      assert.equal(response.headers.get("content-type"), "application/octet-stream");
      assert.deepEqual(await bodyBytes(response), blob.data);
    });

    it("GET advertises range support (Accept-Ranges: bytes)", async () => {
      const response = await registry.fetch(`/v2/${repo}/blobs/${blob.digest}`, { method: "HEAD" });
      assert.equal(response.headers.get("accept-ranges"), "bytes");
    });

    it("a zero-length blob is served as 200 with Content-Length 0 and an empty body", async () => {
      await pushBlob(registry, repo, "");
      const response = await registry.fetch(`/v2/${repo}/blobs/${EMPTY_DIGEST}`);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get("content-length"), "0");
      assert.equal((await bodyBytes(response)).byteLength, 0);
    });
  });

  describe("Range requests on blobs", () => {
    it("Range bytes=a-b answers 206 with Content-Range and exactly those bytes", async () => {
      const response = await registry.fetch(`/v2/${repo}/blobs/${blob.digest}`, {
        headers: { Range: "bytes=100-199" },
      });
      assert.equal(response.status, 206);
      assert.equal(response.headers.get("content-range"), "bytes 100-199/1000");
      assert.equal(response.headers.get("content-length"), "100");
      assert.deepEqual(await bodyBytes(response), blob.data.subarray(100, 200));
    });

    it("an open-ended range bytes=a- runs to the end of the blob", async () => {
      const response = await registry.fetch(`/v2/${repo}/blobs/${blob.digest}`, { headers: { Range: "bytes=990-" } });
      assert.equal(response.status, 206);
      assert.equal(response.headers.get("content-range"), "bytes 990-999/1000");
      assert.deepEqual(await bodyBytes(response), blob.data.subarray(990));
    });

    it("a suffix range bytes=-n returns the last n bytes", async () => {
      const response = await registry.fetch(`/v2/${repo}/blobs/${blob.digest}`, { headers: { Range: "bytes=-10" } });
      assert.equal(response.status, 206);
      assert.equal(response.headers.get("content-range"), "bytes 990-999/1000");
      assert.deepEqual(await bodyBytes(response), blob.data.subarray(990));
    });

    it("a range whose end lies past the blob is clipped to the blob", async () => {
      const response = await registry.fetch(`/v2/${repo}/blobs/${blob.digest}`, {
        headers: { Range: "bytes=900-5000" },
      });
      assert.equal(response.status, 206);
      assert.equal(response.headers.get("content-range"), "bytes 900-999/1000");
      assert.deepEqual(await bodyBytes(response), blob.data.subarray(900));
    });

    it("a range starting past the end answers 416 with the blob size in Content-Range", async () => {
      const response = await registry.fetch(`/v2/${repo}/blobs/${blob.digest}`, {
        headers: { Range: "bytes=1000-1100" },
      });
      assert.equal(response.headers.get("content-range"), "bytes */1000");
      await assertError(response, 416, "RANGE_INVALID");
    });

    it("a range covering the whole blob is a plain 200", async () => {
      const response = await registry.fetch(`/v2/${repo}/blobs/${blob.digest}`, { headers: { Range: "bytes=0-999" } });
      assert.equal(response.status, 200);
      assert.deepEqual(await bodyBytes(response), blob.data);
    });
  });

  describe("Unknown blobs", () => {
    const unknown = sha256("never pushed");

    it("GET of an unknown digest answers 404 BLOB_UNKNOWN", async () => {
      await assertError(await registry.fetch(`/v2/${repo}/blobs/${unknown}`), 404, "BLOB_UNKNOWN");
    });

    it("HEAD of an unknown digest answers 404 without a body", async () => {
      const response = await registry.fetch(`/v2/${repo}/blobs/${unknown}`, { method: "HEAD" });
      assert.equal(response.status, 404);
      assert.equal(await response.text(), "");
    });

    it("GET in a repository that never existed answers 404 BLOB_UNKNOWN", async () => {
      await assertError(await registry.fetch(`/v2/never/existed/blobs/${blob.digest}`), 404, "BLOB_UNKNOWN");
    });
  });

  describe("Blobs are scoped to repositories", () => {
    it("a blob uploaded to repository A is not visible from repository B", async () => {
      const own = randomBlob(64);
      await pushBlob(registry, "scope/a", own.data);
      assert.equal((await registry.fetch(`/v2/scope/a/blobs/${own.digest}`, { method: "HEAD" })).status, 200);
      await assertError(await registry.fetch(`/v2/scope/b/blobs/${own.digest}`), 404, "BLOB_UNKNOWN");
      const head = await registry.fetch(`/v2/scope/b/blobs/${own.digest}`, { method: "HEAD" });
      assert.equal(head.status, 404);
    });

    it("becomes visible from repository B once mounted from A", async () => {
      const own = randomBlob(64);
      await pushBlob(registry, "scope/c", own.data);
      const mount = await registry.fetch(`/v2/scope/d/blobs/uploads/?mount=${own.digest}&from=scope/c`, {
        method: "POST",
      });
      assert.equal(mount.status, 201);
      const response = await registry.fetch(`/v2/scope/d/blobs/${own.digest}`);
      assert.equal(response.status, 200);
      assert.deepEqual(await bodyBytes(response), own.data);
    });

    it("uploading the same bytes to B makes them visible from B (content shared, link per repository)", async () => {
      const own = randomBlob(64);
      await pushBlob(registry, "scope/e", own.data);
      await pushBlob(registry, "scope/f", own.data);
      const response = await registry.fetch(`/v2/scope/f/blobs/${own.digest}`);
      assert.equal(response.status, 200);
      assert.deepEqual(await bodyBytes(response), own.data);
    });
  });
});
