import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { assertStatus, errorCodes, runOnlyIf, tagsOf, type SuiteRun } from "./conformance-support.js";

/** The tag the workflow pushes and then deletes (defaultTagName). */
const TAG = "tagtest0";

/**
 * Content management (OCI_TEST_CONTENT_MANAGEMENT): manifests[3] is pushed under a tag, the
 * tag and then the manifest are deleted, the tag list must shrink, and the config and layer
 * blobs are deleted (the config must then be gone). The suite has no teardown here.
 */
export function managementWorkflow(run: SuiteRun): void {
  let numTags = 0;
  let blobDeleteAllowed = true;

  describe("Content Management", () => {
    describe("Setup", () => {
      it("Populate registry with test config blob (config[3]): 2xx", async () => {
        assertStatus(await run.pushBlob(run.data.configs[3]!), "2xx");
      });

      it("Populate registry with test layer: 2xx", async () => {
        assertStatus(await run.pushBlob(run.data.layer), "2xx");
      });

      it("Populate registry with test tag (manifest[3] as tagtest0): 2xx", async () => {
        assertStatus(await run.putManifest(TAG, run.data.manifests[3]!), "2xx");
      });

      it("Check how many tags there are before anything gets deleted (200, JSON)", async (t) => {
        const reply = await run.client.send("GET", run.path("tags/list"));
        assertStatus(reply, 200);
        assert.doesNotThrow(() => JSON.parse(reply.body.toString("utf8")));
        numTags = tagsOf(reply).length;
        t.diagnostic(`tags: ${JSON.stringify(tagsOf(reply))}`);
      });
    });

    describe("Manifest delete", () => {
      it("DELETE request to manifest tag should return 202, unless tag deletion is disallowed (400/405)", async () => {
        const reply = await run.delete(`manifests/${TAG}`);
        assertStatus(reply, 400, 202, 405);
        if (reply.status === 400) {
          const codes = errorCodes(reply);
          assert.equal(codes[0], "UNSUPPORTED");
        }
      });

      it("DELETE request to manifest (digest) should yield 202 response unless already deleted (202 or 404)", async () => {
        assertStatus(await run.delete(`manifests/${run.data.manifests[3]!.digest}`), 202, 404);
      });

      it("GET request to deleted manifest URL should yield 404 response, unless delete is disallowed (404 or 200)", async () => {
        const reply = await run.client.send("GET", run.path(`manifests/${run.data.manifests[3]!.digest}`));
        assertStatus(reply, 404, 200);
      });

      it("GET request to tags list should reflect manifest deletion (200, fewer tags than before)", async () => {
        const reply = await run.client.send("GET", run.path("tags/list"));
        assertStatus(reply, 200);
        assert.doesNotThrow(() => JSON.parse(reply.body.toString("utf8")));
        const tags = tagsOf(reply);
        assert.ok(
          tags.length < numTags,
          `${tags.length} tags after the deletes, ${numTags} before: ${JSON.stringify(tags)}`,
        );
      });
    });

    describe("Blob delete", () => {
      it("DELETE request to blob URL should yield 202 response (config[3], then the layer: 202, 404 or 405)", async () => {
        assertStatus(await run.delete(`blobs/${run.data.configs[3]!.digest}`), 202, 404, 405);
        const layer = await run.delete(`blobs/${run.data.layer.digest}`);
        assertStatus(layer, 202, 404, 405);
        if (layer.status === 405) blobDeleteAllowed = false;
      });

      it("GET request to deleted blob URL should yield 404 response", async (t) => {
        if (!runOnlyIf(t, blobDeleteAllowed, "blob deletes answered 405")) return;
        assertStatus(await run.client.send("GET", run.path(`blobs/${run.data.configs[3]!.digest}`)), 404);
      });
    });
  });
}
