import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { useAzurite } from "../helpers/azurite.js";
import { randomBlob, sha256 } from "../helpers/content.js";
import { createTestRegistry, type TestRegistry } from "../helpers/registry.js";
import {
  assertBlob,
  assertBlobCreated,
  assertError,
  bytes,
  nextLocation,
  EMPTY_DIGEST,
  patchChunk,
  patchStreamed,
  pushBlob,
  startUpload,
  withQuery,
} from "./support.js";

describe("OCI Distribution: pushing blobs", () => {
  const azurite = useAzurite();
  let registry: TestRegistry;

  before(async () => {
    registry = await createTestRegistry(azurite().connectionString);
  });

  describe("Monolithic upload: single POST with ?digest= (end-4b)", () => {
    it("answers 201 with Location and Docker-Content-Digest, and the blob can be pulled", async () => {
      const blob = randomBlob(4096);
      const response = await registry.fetch(`/v2/mono/one/blobs/uploads/?digest=${blob.digest}`, {
        method: "POST",
        body: bytes(blob.data),
        headers: { "Content-Type": "application/octet-stream" },
      });
      assertBlobCreated(response, "mono/one", blob.digest);
      await assertBlob(registry, "mono/one", blob.digest, blob.data);
    });

    it("rejects a body that does not match the digest with 400 DIGEST_INVALID, storing nothing", async () => {
      const blob = randomBlob(512);
      const claimed = sha256("something else");
      const response = await registry.fetch(`/v2/mono/bad/blobs/uploads/?digest=${claimed}`, {
        method: "POST",
        body: bytes(blob.data),
      });
      await assertError(response, 400, "DIGEST_INVALID");
      await assertError(await registry.fetch(`/v2/mono/bad/blobs/${claimed}`), 404, "BLOB_UNKNOWN");
      await assertError(await registry.fetch(`/v2/mono/bad/blobs/${blob.digest}`), 404, "BLOB_UNKNOWN");
    });

    it("accepts a zero-length blob (the empty digest, no body)", async () => {
      const response = await registry.fetch(`/v2/mono/empty/blobs/uploads/?digest=${EMPTY_DIGEST}`, { method: "POST" });
      assertBlobCreated(response, "mono/empty", EMPTY_DIGEST);
      await assertBlob(registry, "mono/empty", EMPTY_DIGEST, new Uint8Array(0));
    });

    it("accepts the same blob pushed twice", async () => {
      const blob = randomBlob(100);
      await pushBlob(registry, "mono/twice", blob.data);
      await pushBlob(registry, "mono/twice", blob.data);
      await assertBlob(registry, "mono/twice", blob.digest, blob.data);
    });
  });

  describe("Upload sessions: POST /v2/<name>/blobs/uploads/ (end-4a)", () => {
    it("answers 202 with a Location to continue the upload at", async () => {
      const response = await registry.fetch("/v2/session/open/blobs/uploads/", { method: "POST" });
      assert.equal(response.status, 202);
      assert.match(response.headers.get("location") ?? "", /^\/v2\/session\/open\/blobs\/uploads\/[^/]+$/);
      assert.equal(response.headers.get("range"), "0-0");
      assert.ok(response.headers.get("oci-chunk-min-length"), "no OCI-Chunk-Min-Length");
    });

    it("GET on the upload answers 204 with Location and Range 0-(n-1) after n bytes", async () => {
      const started = await startUpload(registry, "session/status");
      const patch = await patchChunk(registry, started, randomBlob(300).data, 0);
      assert.equal(patch.status, 202);
      const location = nextLocation(patch);
      const response = await registry.fetch(location);
      assert.equal(response.status, 204);
      assert.equal(response.headers.get("range"), "0-299");
      assert.equal(response.headers.get("location"), location);
      assert.equal(response.headers.get("content-length"), null, "a 204 must not carry Content-Length");
    });

    it("GET on a fresh upload answers 204 with Range 0-0", async () => {
      const location = await startUpload(registry, "session/fresh");
      const response = await registry.fetch(location);
      assert.equal(response.status, 204);
      assert.equal(response.headers.get("range"), "0-0");
    });

    it("DELETE cancels the upload (204); afterwards it is 404 BLOB_UPLOAD_UNKNOWN", async () => {
      const location = nextLocation(
        await patchChunk(registry, await startUpload(registry, "session/cancel"), randomBlob(10).data, 0),
      );
      const response = await registry.fetch(location, { method: "DELETE" });
      assert.equal(response.status, 204);
      assert.equal(response.headers.get("content-length"), null, "a 204 must not carry Content-Length");
      await assertError(await registry.fetch(location), 404, "BLOB_UPLOAD_UNKNOWN");
      await assertError(await patchChunk(registry, location, randomBlob(10).data, 10), 404, "BLOB_UPLOAD_UNKNOWN");
      await assertError(await registry.fetch(location, { method: "DELETE" }), 404, "BLOB_UPLOAD_UNKNOWN");
    });

    it("an unknown upload id is 404 BLOB_UPLOAD_UNKNOWN for GET, PATCH, PUT and DELETE", async () => {
      const location = `/v2/session/unknown/blobs/uploads/${"ab".repeat(16)}`;
      await assertError(await registry.fetch(location), 404, "BLOB_UPLOAD_UNKNOWN");
      await assertError(await patchChunk(registry, location, bytes("x"), 0), 404, "BLOB_UPLOAD_UNKNOWN");
      await assertError(
        await registry.fetch(withQuery(location, `digest=${sha256("x")}`), { method: "PUT", body: bytes("x") }),
        404,
        "BLOB_UPLOAD_UNKNOWN",
      );
      await assertError(await registry.fetch(location, { method: "DELETE" }), 404, "BLOB_UPLOAD_UNKNOWN");
    });

    it("an upload id that is not one of ours is 404 BLOB_UPLOAD_UNKNOWN", async () => {
      await assertError(
        await registry.fetch("/v2/session/unknown/blobs/uploads/not-an-id"),
        404,
        "BLOB_UPLOAD_UNKNOWN",
      );
    });

    it("an upload belongs to its repository: another repository cannot see it", async () => {
      const location = await startUpload(registry, "session/owner");
      const id = location.split("/").at(-1);
      await assertError(await registry.fetch(`/v2/session/other/blobs/uploads/${id}`), 404, "BLOB_UPLOAD_UNKNOWN");
    });
  });

  describe("POST then PUT with the whole blob (containerd style)", () => {
    it("answers 201 with Location and Docker-Content-Digest", async () => {
      const blob = randomBlob(2048);
      const location = await startUpload(registry, "put/whole");
      const response = await registry.fetch(withQuery(location, `digest=${blob.digest}`), {
        method: "PUT",
        body: bytes(blob.data),
        headers: { "Content-Type": "application/octet-stream" },
      });
      assertBlobCreated(response, "put/whole", blob.digest);
      await assertBlob(registry, "put/whole", blob.digest, blob.data);
    });

    it("the session is closed once the blob is created", async () => {
      const blob = randomBlob(16);
      const location = await startUpload(registry, "put/closed");
      await registry.fetch(withQuery(location, `digest=${blob.digest}`), { method: "PUT", body: bytes(blob.data) });
      await assertError(await registry.fetch(location), 404, "BLOB_UPLOAD_UNKNOWN");
    });

    it("a zero-length blob: PUT ?digest=<empty digest> without a body", async () => {
      const location = await startUpload(registry, "put/empty");
      const response = await registry.fetch(withQuery(location, `digest=${EMPTY_DIGEST}`), { method: "PUT" });
      assertBlobCreated(response, "put/empty", EMPTY_DIGEST);
      await assertBlob(registry, "put/empty", EMPTY_DIGEST, new Uint8Array(0));
    });

    it("PUT without ?digest= is 400 DIGEST_INVALID", async () => {
      const location = await startUpload(registry, "put/nodigest");
      await assertError(await registry.fetch(location, { method: "PUT", body: bytes("abc") }), 400, "DIGEST_INVALID");
    });

    it("a digest that does not match is 400 DIGEST_INVALID, and nothing is stored", async () => {
      const blob = randomBlob(256);
      const claimed = sha256("not these bytes");
      const location = await startUpload(registry, "put/mismatch");
      await assertError(
        await registry.fetch(withQuery(location, `digest=${claimed}`), { method: "PUT", body: bytes(blob.data) }),
        400,
        "DIGEST_INVALID",
      );
      await assertError(await registry.fetch(`/v2/put/mismatch/blobs/${claimed}`), 404, "BLOB_UNKNOWN");
      await assertError(await registry.fetch(`/v2/put/mismatch/blobs/${blob.digest}`), 404, "BLOB_UNKNOWN");
    });
  });

  describe("POST, one streamed PATCH, then PUT without a body (Docker style)", () => {
    it("stores the streamed bytes under the digest", async () => {
      const blob = randomBlob(300_000);
      const location = await startUpload(registry, "docker/style");
      const patch = await patchStreamed(registry, location, blob.data);
      assert.equal(patch.status, 202);
      assert.equal(patch.headers.get("range"), `0-${blob.data.byteLength - 1}`);
      const next = patch.headers.get("location") ?? "";
      assert.ok(next, "PATCH answered without a Location");
      const put = await registry.fetch(withQuery(next, `digest=${blob.digest}`), { method: "PUT" });
      assertBlobCreated(put, "docker/style", blob.digest);
      await assertBlob(registry, "docker/style", blob.digest, blob.data);
    });

    it("a digest mismatch after a streamed PATCH is 400 DIGEST_INVALID, and nothing is stored", async () => {
      const blob = randomBlob(1000);
      const claimed = sha256("wrong");
      const patch = await patchStreamed(registry, await startUpload(registry, "docker/mismatch"), blob.data);
      assert.equal(patch.status, 202);
      const location = nextLocation(patch);
      await assertError(
        await registry.fetch(withQuery(location, `digest=${claimed}`), { method: "PUT" }),
        400,
        "DIGEST_INVALID",
      );
      await assertError(await registry.fetch(`/v2/docker/mismatch/blobs/${blob.digest}`), 404, "BLOB_UNKNOWN");
      await assertError(await registry.fetch(`/v2/docker/mismatch/blobs/${claimed}`), 404, "BLOB_UNKNOWN");
    });

    it("a streamed PATCH followed by another PATCH still yields the right digest (re-hash fallback)", async () => {
      const blob = randomBlob(200_000);
      const first = await patchStreamed(
        registry,
        await startUpload(registry, "docker/again"),
        blob.data.subarray(0, 120_000),
      );
      assert.equal(first.status, 202);
      const second = await patchChunk(registry, nextLocation(first), blob.data.subarray(120_000), 120_000);
      assert.equal(second.status, 202);
      assert.equal(second.headers.get("range"), "0-199999");
      assertBlobCreated(
        await registry.fetch(withQuery(nextLocation(second), `digest=${blob.digest}`), { method: "PUT" }),
        "docker/again",
        blob.digest,
      );
      await assertBlob(registry, "docker/again", blob.digest, blob.data);
    });

    it("two streamed PATCHes and a final chunk in the PUT assemble in order", async () => {
      const blob = randomBlob(30_000);
      let location = await startUpload(registry, "docker/thrice");
      location = nextLocation(await patchStreamed(registry, location, blob.data.subarray(0, 10_000)));
      location = nextLocation(await patchStreamed(registry, location, blob.data.subarray(10_000, 20_000)));
      const put = await registry.fetch(withQuery(location, `digest=${blob.digest}`), {
        method: "PUT",
        body: bytes(blob.data.subarray(20_000)),
      });
      assertBlobCreated(put, "docker/thrice", blob.digest);
      await assertBlob(registry, "docker/thrice", blob.digest, blob.data);
    });
  });

  describe("Chunked upload: PATCH with Content-Range, then PUT (end-5, end-6)", () => {
    it("each chunk answers 202 with Location and Range 0-<end>; PUT without a body completes", async () => {
      const blob = randomBlob(3000);
      let location = await startUpload(registry, "chunks/no-final");
      for (const start of [0, 1000, 2000]) {
        const response = await patchChunk(registry, location, blob.data.subarray(start, start + 1000), start);
        assert.equal(response.status, 202);
        assert.equal(response.headers.get("range"), `0-${start + 999}`);
        location = nextLocation(response);
      }
      assertBlobCreated(
        await registry.fetch(withQuery(location, `digest=${blob.digest}`), { method: "PUT" }),
        "chunks/no-final",
        blob.digest,
      );
      await assertBlob(registry, "chunks/no-final", blob.digest, blob.data);
    });

    it("the final chunk may be carried by the closing PUT", async () => {
      const blob = randomBlob(2500);
      let location = await startUpload(registry, "chunks/final");
      for (const start of [0, 1000]) {
        const response = await patchChunk(registry, location, blob.data.subarray(start, start + 1000), start);
        assert.equal(response.status, 202);
        location = nextLocation(response);
      }
      const put = await registry.fetch(withQuery(location, `digest=${blob.digest}`), {
        method: "PUT",
        body: bytes(blob.data.subarray(2000)),
        headers: { "Content-Type": "application/octet-stream", "Content-Range": "2000-2499" },
      });
      assertBlobCreated(put, "chunks/final", blob.digest);
      await assertBlob(registry, "chunks/final", blob.digest, blob.data);
    });

    it("accepts the `bytes a-b/*` form of Content-Range seen in the wild", async () => {
      const blob = randomBlob(100);
      const location = await startUpload(registry, "chunks/bytes-form");
      const response = await registry.fetch(location, {
        method: "PATCH",
        body: bytes(blob.data),
        headers: { "Content-Range": "bytes 0-99/*" },
      });
      assert.equal(response.status, 202);
      assert.equal(response.headers.get("range"), "0-99");
    });

    it("a chunk that does not start at the current offset is 416 with Range and Location; the upload can then resume", async () => {
      const blob = randomBlob(2000);
      const started = await startUpload(registry, "chunks/out-of-order");
      const location = nextLocation(await patchChunk(registry, started, blob.data.subarray(0, 1000), 0));
      const gap = await patchChunk(registry, location, blob.data.subarray(1500), 1500);
      assert.equal(gap.headers.get("range"), "0-999");
      assert.equal(gap.headers.get("location"), location);
      await assertError(gap, 416, "BLOB_UPLOAD_INVALID");
      const repeat = await patchChunk(registry, location, blob.data.subarray(0, 1000), 0);
      assert.equal(repeat.headers.get("range"), "0-999");
      await assertError(repeat, 416, "BLOB_UPLOAD_INVALID");
      // nothing of the refused chunks was kept: the upload continues from 1000
      const status = await registry.fetch(location);
      assert.equal(status.headers.get("range"), "0-999");
      const rest = await patchChunk(registry, location, blob.data.subarray(1000), 1000);
      assert.equal(rest.status, 202);
      assertBlobCreated(
        await registry.fetch(withQuery(nextLocation(rest), `digest=${blob.digest}`), { method: "PUT" }),
        "chunks/out-of-order",
        blob.digest,
      );
      await assertBlob(registry, "chunks/out-of-order", blob.digest, blob.data);
    });

    it("a chunk whose length differs from its Content-Range is 400 SIZE_INVALID and not kept", async () => {
      const blob = randomBlob(100);
      const location = await startUpload(registry, "chunks/short");
      const short = await registry.fetch(location, {
        method: "PATCH",
        body: bytes(blob.data.subarray(0, 50)),
        headers: { "Content-Range": "0-99" },
      });
      await assertError(short, 400, "SIZE_INVALID");
      const long = await registry.fetch(location, {
        method: "PATCH",
        body: bytes(blob.data),
        headers: { "Content-Range": "0-49" },
      });
      await assertError(long, 400, "SIZE_INVALID");
      assert.equal((await registry.fetch(location)).headers.get("range"), "0-0");
      // the upload is intact: the right chunk is still accepted at offset 0
      const whole = await patchChunk(registry, location, blob.data, 0);
      assert.equal(whole.status, 202);
      assertBlobCreated(
        await registry.fetch(withQuery(nextLocation(whole), `digest=${blob.digest}`), { method: "PUT" }),
        "chunks/short",
        blob.digest,
      );
      await assertBlob(registry, "chunks/short", blob.digest, blob.data);
    });

    it("a malformed Content-Range is 400 BLOB_UPLOAD_INVALID", async () => {
      const location = await startUpload(registry, "chunks/garbage");
      const response = await registry.fetch(location, {
        method: "PATCH",
        body: bytes("abc"),
        headers: { "Content-Range": "three bytes" },
      });
      await assertError(response, 400, "BLOB_UPLOAD_INVALID");
    });

    it("a digest mismatch after chunks is 400 DIGEST_INVALID, and nothing is stored", async () => {
      const blob = randomBlob(2000);
      const claimed = sha256("nope");
      let location = await startUpload(registry, "chunks/mismatch");
      location = nextLocation(await patchChunk(registry, location, blob.data.subarray(0, 1000), 0));
      location = nextLocation(await patchChunk(registry, location, blob.data.subarray(1000), 1000));
      await assertError(
        await registry.fetch(withQuery(location, `digest=${claimed}`), { method: "PUT" }),
        400,
        "DIGEST_INVALID",
      );
      await assertError(await registry.fetch(`/v2/chunks/mismatch/blobs/${blob.digest}`), 404, "BLOB_UNKNOWN");
      await assertError(await registry.fetch(`/v2/chunks/mismatch/blobs/${claimed}`), 404, "BLOB_UNKNOWN");
    });
  });
});
