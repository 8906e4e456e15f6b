import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  absoluteLocation,
  assertLocation,
  assertStatus,
  chunkedBlob,
  relativeLocation,
  runOnlyIf,
  type Reply,
  type SuiteRun,
} from "./conformance-support.js";

/** The tag of the manifest without layers (emptyLayerTestTag). */
const EMPTY_LAYER_TAG = "emptylayer";

/**
 * Push (OCI_TEST_PUSH): a streamed upload, monolithic uploads, a chunked upload (out-of-order
 * chunk, retried chunk, status GET), cross-repository mounts, manifest uploads, and teardown.
 * Specs hand responses on as the suite does (its lastResponse / prevResponse).
 */
export function pushWorkflow(run: SuiteRun): void {
  const octets = { "Content-Type": "application/octet-stream" };
  let lastResponse: Reply | undefined;
  let prevResponse: Reply | undefined;
  let emptyLayerManifestRef = "";
  const previous = (reply: Reply | undefined): Reply => {
    assert.ok(reply, "the spec this one continues did not get a response");
    return reply;
  };

  describe("Push", () => {
    describe("Blob Upload Streamed", () => {
      it("PATCH request with blob in body should yield 202 response (after a POST with a Location)", async () => {
        const post = await run.client.send("POST", run.path("blobs/uploads/"));
        assertLocation(post);
        const patch = await run.client.send("PATCH", relativeLocation(post), {
          headers: octets,
          body: run.data.blobA.content,
        });
        assertStatus(patch, 202);
        lastResponse = patch;
      });

      it("PUT request to session URL with digest should yield 201 response (no body, with a Location)", async () => {
        const put = await run.client.send("PUT", relativeLocation(previous(lastResponse)), {
          query: { digest: run.data.blobA.digest },
          headers: octets,
        });
        assertStatus(put, 201);
        assertLocation(put);
      });
    });

    describe("Blob Upload Monolithic", () => {
      const config = () => run.data.configs[1]!;

      it("GET nonexistent blob should result in 404 response", async () => {
        assertStatus(await run.client.send("GET", run.path(`blobs/${run.data.dummyDigest}`)), 404);
      });

      it("POST request with digest and blob should yield a 201 or 202 (with a Location)", async () => {
        const post = await run.client.send("POST", run.path("blobs/uploads/"), {
          query: { digest: config().digest },
          headers: octets,
          body: config().content,
        });
        assertLocation(post);
        assertStatus(post, 201, 202);
        lastResponse = post;
      });

      it("GET request to blob URL from prior request should yield 200 or 404 based on response code", async () => {
        const post = previous(lastResponse);
        const get = await run.client.send("GET", run.path(`blobs/${config().digest}`));
        assertStatus(get, post.status === 202 ? 404 : 200);
      });

      it("POST request should yield a session ID (202)", async () => {
        const post = await run.client.send("POST", run.path("blobs/uploads/"));
        assertStatus(post, 202);
        lastResponse = post;
      });

      it("PUT upload of a blob should yield a 201 Response (with a Location)", async () => {
        const put = await run.client.send("PUT", relativeLocation(previous(lastResponse)), {
          query: { digest: config().digest },
          headers: octets,
          body: config().content,
        });
        assertLocation(put);
        assertStatus(put, 201);
      });

      it("GET request to existing blob should yield 200 response", async () => {
        assertStatus(await run.client.send("GET", run.path(`blobs/${config().digest}`)), 200);
      });

      it("PUT upload of a layer blob should yield a 201 Response (with a Location)", async () => {
        const put = await run.pushBlob(run.data.layer);
        assertLocation(put);
        assertStatus(put, 201);
      });

      it("GET request to existing layer should yield 200 response", async () => {
        assertStatus(await run.client.send("GET", run.path(`blobs/${run.data.layer.digest}`)), 200);
      });
    });

    describe("Blob Upload Chunked", () => {
      const chunk = (location: string, data: Buffer, range: string) =>
        run.client.send("PATCH", location, { headers: { ...octets, "Content-Range": range }, body: data });

      it("Out-of-order blob upload should return 416 (second chunk first)", async () => {
        const post = await run.client.send("POST", run.path("blobs/uploads/"));
        assertLocation(post);
        // the suite grows its chunks when the registry asks for larger ones
        const min = post.header("OCI-Chunk-Min-Length");
        if (min !== "") {
          const minSize = Number(min);
          assert.ok(Number.isInteger(minSize), `OCI-Chunk-Min-Length is not a number: ${min}`);
          if (minSize > run.data.blobB.chunk1.byteLength) run.data.blobB = chunkedBlob(minSize * 2 - 2);
        }
        const { chunk2, range2 } = run.data.blobB;
        assertStatus(await chunk(relativeLocation(post), chunk2, range2), 416);
      });

      it("PATCH request with first chunk should return 202 (Range is the first chunk's range)", async () => {
        const post = await run.client.send("POST", run.path("blobs/uploads/"));
        assertLocation(post);
        prevResponse = post;
        const { chunk1, range1 } = run.data.blobB;
        const patch = await chunk(relativeLocation(post), chunk1, range1);
        assertStatus(patch, 202);
        assert.equal(patch.header("Range"), range1);
        lastResponse = patch;
      });

      it("Retry previous blob chunk should return 416", async () => {
        const { chunk1, range1 } = run.data.blobB;
        assertStatus(await chunk(relativeLocation(previous(prevResponse)), chunk1, range1), 416);
      });

      it("Get on stale blob upload should return 204 with a range and location", async () => {
        const get = await run.client.send("GET", relativeLocation(previous(prevResponse)));
        assertStatus(get, 204);
        assertLocation(get);
        assert.equal(get.header("Range"), run.data.blobB.range1);
        lastResponse = get;
      });

      it("PATCH request with second chunk should return 202 (with a Location)", async () => {
        const { chunk2, range2 } = run.data.blobB;
        const patch = await chunk(relativeLocation(previous(lastResponse)), chunk2, range2);
        assertStatus(patch, 202);
        assertLocation(patch);
        lastResponse = patch;
      });

      it("PUT request with digest should return 201 (Content-Length: 0, with a Location)", async () => {
        const put = await run.client.send("PUT", relativeLocation(previous(lastResponse)), {
          query: { digest: run.data.blobB.digest },
          headers: octets,
        });
        assertStatus(put, 201);
        assertLocation(put);
      });
    });

    describe("Cross-Repository Blob Mount", () => {
      const mountPath = () => `/v2/${run.crossmountNamespace}/blobs/uploads/`;

      it("Cross-mounting of a blob without the from argument should yield session id (202 with a Location)", async () => {
        const post = await run.client.send("POST", mountPath(), { query: { mount: run.data.dummyDigest } });
        assertStatus(post, 202);
        assert.notEqual(absoluteLocation(post, run.client.origin), "");
      });

      it("POST request to mount another repository's blob should return 201 or 202", async () => {
        const post = await run.client.send("POST", mountPath(), {
          query: { mount: run.data.blobA.digest, from: run.namespace },
        });
        assertStatus(post, 201, 202);
        lastResponse = post;
      });

      it("GET request to test digest within cross-mount namespace should return 200 (when the mount was 201)", async (t) => {
        const mount = previous(lastResponse);
        if (!runOnlyIf(t, mount.status === 201, "the mount answered 202")) return;
        const expected = `/v2/${run.crossmountNamespace}/blobs/${run.data.blobA.digest}`;
        assert.equal(relativeLocation(mount), expected);
        assertStatus(await run.client.send("GET", relativeLocation(mount)), 200);
      });

      it("Cross-mounting of nonexistent blob should yield session id (when the mount was 202)", (t) => {
        const mount = previous(lastResponse);
        if (!runOnlyIf(t, mount.status === 202, "the mount answered 201")) return;
        assert.ok(relativeLocation(mount).startsWith(`/v2/${run.crossmountNamespace}/blobs/uploads/`));
      });

      for (const enabled of [true, false]) {
        const state = enabled ? "enabled should return a 201" : "disabled should return a 202";
        it(`Cross-mounting without from, and automatic content discovery ${state}`, async (t) => {
          if (!runOnlyIf(t, run.automaticCrossmount !== undefined, "OCI_AUTOMATIC_CROSSMOUNT unset")) return;
          if (!runOnlyIf(t, previous(lastResponse).status === 201, "the mount with from answered 202")) return;
          if (!runOnlyIf(t, run.automaticCrossmount === enabled, `automatic crossmount is ${!enabled}`)) return;
          const post = await run.client.send("POST", mountPath(), { query: { mount: run.data.blobA.digest } });
          assertStatus(post, enabled ? 201 : 202);
        });
      }
    });

    describe("Manifest Upload", () => {
      it("GET nonexistent manifest should return 404 (reference .INVALID_MANIFEST_NAME)", async () => {
        assertStatus(await run.client.send("GET", run.path(`manifests/${run.data.nonexistentManifest}`)), 404);
      });

      it("PUT should accept a manifest upload (manifest[1] as test0..test3: 201 with a Location each)", async () => {
        for (let i = 0; i < 4; i++) {
          const put = await run.putManifest(`test${i}`, run.data.manifests[1]!);
          assertLocation(put);
          assertStatus(put, 201);
        }
      });

      it("Registry should accept a manifest upload with no layers (201 with a Location; anything else is only a warning)", async (t) => {
        const put = await run.putManifest(EMPTY_LAYER_TAG, run.data.emptyLayerManifest);
        if (put.status !== 201) {
          t.diagnostic(`WARNING: image manifest with no layers is not supported (${put.status})`);
          return;
        }
        assertLocation(put);
        emptyLayerManifestRef = put.header("Location");
      });

      it("GET request to manifest URL (digest) should yield 200 response", async () => {
        const manifest = run.data.manifests[1]!;
        const get = await run.client.send("GET", run.path(`manifests/${manifest.digest}`), {
          headers: { Accept: "application/vnd.oci.image.manifest.v1+json" },
        });
        assertStatus(get, 200);
      });
    });

    describe("Teardown", () => {
      const deleteManifests = () =>
        it("Delete manifest created in tests (manifest[1], then the no-layer manifest by digest): 2xx or 405", async () => {
          assertStatus(await run.delete(`manifests/${run.data.manifests[1]!.digest}`), "2xx", 405);
          if (emptyLayerManifestRef !== "") {
            assertStatus(await run.delete(`manifests/${run.data.emptyLayerManifest.digest}`), "2xx", 405);
          }
        });
      if (run.deleteManifestBeforeBlobs) deleteManifests();

      it("Delete config blob created in tests (config[1]): 2xx, 404 or 405", async () => {
        assertStatus(await run.delete(`blobs/${run.data.configs[1]!.digest}`), "2xx", 404, 405);
      });

      it("Delete layer blob created in setup: 2xx, 404 or 405", async () => {
        assertStatus(await run.delete(`blobs/${run.data.layer.digest}`), "2xx", 404, 405);
      });

      if (!run.deleteManifestBeforeBlobs) deleteManifests();
    });
  });
}
