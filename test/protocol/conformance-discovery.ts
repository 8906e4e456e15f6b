import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  assertStatus,
  indexOf,
  OCI_INDEX,
  sha256,
  SuiteData,
  tagsOf,
  type ArtifactManifest,
  type SuiteRun,
  type TestBlob,
} from "./conformance-support.js";

/** The tag the referrers' subject (manifests[4]) is pushed under (testTagName). */
const TAG = "tagtest0";

/**
 * Content discovery (OCI_TEST_CONTENT_DISCOVERY): tags test0..test3 on manifests[2], then the
 * referrers setup (artifacts of manifests[4] pushed before and after it, an index artifact,
 * and one artifact whose subject manifests[3] does not exist), tag listing with `n`/`last`,
 * the referrers API with and without the artifactType filter, and teardown.
 */
export function discoveryWorkflow(run: SuiteRun): void {
  let numTags = 4;
  let tagList: string[] = [];
  let lastPage: { last: string; tags: string[] } | undefined;

  /** Each referrers answer must be 200 with exactly the image index media type. */
  const referrers = async (digest: string, query?: Record<string, string>) => {
    const reply = await run.client.send("GET", run.path(`referrers/${digest}`), query ? { query } : {});
    assertStatus(reply, 200);
    assert.equal(reply.header("Content-Type"), OCI_INDEX);
    return { reply, index: indexOf(reply) };
  };
  /** Every listed descriptor has exactly one annotation, the one its manifest carries. */
  const assertAnnotations = (manifests: { digest: string; annotations?: Record<string, string> }[]) => {
    for (const m of manifests) {
      assert.equal(Object.keys(m.annotations ?? {}).length, 1, `annotations of ${m.digest}`);
      assert.equal(
        m.annotations?.[SuiteData.annotationKey],
        run.data.annotationOf(m.digest),
        `annotation of ${m.digest}`,
      );
    }
  };
  /** A manifest with a subject: 2xx, and OCI-Subject naming the subject. */
  const pushReferrer = async (manifest: ArtifactManifest, subject: TestBlob, mediaType?: string) => {
    const reply = await run.putManifest(manifest.digest, manifest, mediaType);
    assertStatus(reply, "2xx");
    assert.equal(reply.header("OCI-Subject"), subject.digest, `${reply.request}: OCI-Subject`);
  };

  describe("Content Discovery", () => {
    describe("Setup", () => {
      it("Populate registry with test blob (config[2]): 2xx", async () => {
        assertStatus(await run.pushBlob(run.data.configs[2]!), "2xx");
      });

      it("Populate registry with test layer: 2xx", async () => {
        assertStatus(await run.pushBlob(run.data.layer), "2xx");
      });

      it("Populate registry with test tags (manifest[2] as test0..test3: 2xx each)", async () => {
        for (let i = 0; i < numTags; i++) {
          assertStatus(await run.putManifest(`test${i}`, run.data.manifests[2]!), "2xx");
        }
        tagList = tagsOf(await run.client.send("GET", run.path("tags/list")));
      });

      it("References setup (blobs and artifact manifests, each 2xx; OCI-Subject on those with a subject)", async () => {
        const { data } = run;
        assert.equal(data.emptyJson.digest, sha256("{}"));
        assert.equal(data.emptyJson.digest, "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a");
        assertStatus(await run.pushBlob(data.emptyJson), "2xx");
        // artifacts pushed before their subject exists
        assertStatus(await run.pushBlob(data.refBlobA), "2xx");
        await pushReferrer(data.refsAConfig, data.manifests[4]!);
        await pushReferrer(data.refsALayer, data.manifests[4]!);
        await pushReferrer(data.refsIndex, data.manifests[4]!, OCI_INDEX);
        // the subject
        assertStatus(await run.pushBlob(data.configs[4]!), "2xx");
        assertStatus(await run.pushBlob(data.layer), "2xx");
        assertStatus(await run.putManifest(TAG, data.manifests[4]!), "2xx");
        // artifacts pushed after it
        assertStatus(await run.pushBlob(data.refBlobB), "2xx");
        await pushReferrer(data.refsBConfig, data.manifests[4]!);
        await pushReferrer(data.refsBLayer, data.manifests[4]!);
        // and one whose subject is never pushed
        await pushReferrer(data.refsCLayer, data.manifests[3]!);
      });
    });

    describe("Test content discovery endpoints (listing tags)", () => {
      it("GET request to list tags should yield 200 response", async (t) => {
        const reply = await run.client.send("GET", run.path("tags/list"));
        assertStatus(reply, 200);
        tagList = tagsOf(reply);
        numTags = tagList.length;
        t.diagnostic(`tags: ${JSON.stringify(tagList)}`);
      });

      it("GET number of tags should be limitable by `n` query parameter (exactly n tags)", async () => {
        const numResults = Math.floor(numTags / 2);
        const reply = await run.client.send("GET", run.path("tags/list"), { query: { n: String(numResults) } });
        assertStatus(reply, 200);
        tagList = tagsOf(reply);
        assert.equal(tagList.length, numResults, `tags: ${JSON.stringify(tagList)}`);
      });

      it("GET start of tag is set by `last` query parameter (200)", async () => {
        const numResults = Math.floor(numTags / 2);
        const first = await run.client.send("GET", run.path("tags/list"), { query: { n: String(numResults) } });
        tagList = tagsOf(first);
        const last = tagList[numResults - 1];
        assert.ok(last !== undefined, "the first page has no tag to continue from");
        const reply = await run.client.send("GET", run.path("tags/list"), { query: { n: String(numResults), last } });
        assertStatus(reply, 200);
        // as written, the suite's list assertions look at the first page again
        assert.ok(tagList.length <= numResults);
        assert.ok(tagList.includes(last));
        lastPage = { last, tags: tagsOf(reply) };
      });

      it("(stricter than the suite) the `last` page holds at most n tags, all sorting after `last`", () => {
        assert.ok(lastPage, "the `last` request did not get a page");
        const { last, tags } = lastPage;
        assert.ok(tags.length <= Math.floor(numTags / 2), `more than n tags: ${JSON.stringify(tags)}`);
        assert.ok(
          tags.every((tag) => tag > last),
          `tags after last=${last}: ${JSON.stringify(tags)}`,
        );
      });
    });

    describe("Test content discovery endpoints (listing references)", () => {
      it("GET request to nonexistent blob should result in empty 200 response", async () => {
        const { index } = await referrers(run.data.dummyDigest);
        assert.equal(index.manifests.length, 0);
      });

      it("GET request to existing blob should yield 200 (the 5 referrers of manifest[4], each with its annotation)", async () => {
        const { index } = await referrers(run.data.manifests[4]!.digest);
        assert.equal(index.manifests.length, 5, `referrers: ${JSON.stringify(index.manifests)}`);
        assert.notEqual(index.manifests[0]!.digest, index.manifests[1]!.digest);
        assertAnnotations(index.manifests);
      });

      it("GET request to existing blob with filter should yield 200 (2 referrers when OCI-Filters-Applied: artifactType)", async (t) => {
        const { reply, index } = await referrers(run.data.manifests[4]!.digest, {
          artifactType: run.data.artifactTypeA,
        });
        if (reply.header("OCI-Filters-Applied") !== "") {
          assert.equal(index.manifests.length, 2, `referrers: ${JSON.stringify(index.manifests)}`);
          assert.equal(reply.header("OCI-Filters-Applied"), "artifactType");
        } else {
          assert.equal(index.manifests.length, 5);
          t.diagnostic("WARNING: filtering by artifact-type is not implemented");
        }
        assertAnnotations(index.manifests);
      });

      it("GET request to missing manifest should yield 200 (the one referrer of the never-pushed manifest[3])", async () => {
        const { index } = await referrers(run.data.manifests[3]!.digest);
        assert.equal(index.manifests.length, 1, `referrers: ${JSON.stringify(index.manifests)}`);
        assert.equal(index.manifests[0]!.digest, run.data.refsCLayer.digest);
      });
    });

    describe("Teardown", () => {
      const { data } = run;
      const deleteManifests = () =>
        it("Delete created manifest & associated tags (each 2xx, 404 or 405)", async () => {
          const references = [
            data.refsIndex.digest,
            data.manifests[2]!.digest,
            data.manifests[4]!.digest,
            data.refsAConfig.digest,
            data.refsALayer.digest,
            TAG,
            data.refsBConfig.digest,
            data.refsBLayer.digest,
            data.refsCLayer.digest,
          ];
          for (const reference of references) {
            assertStatus(await run.delete(`manifests/${reference}`), "2xx", 404, 405);
          }
        });
      if (run.deleteManifestBeforeBlobs) deleteManifests();

      it("Delete config blob created in tests (config[2]): 2xx or 405", async () => {
        assertStatus(await run.delete(`blobs/${data.configs[2]!.digest}`), "2xx", 405);
      });

      it("Delete layer blob created in setup: 2xx or 405", async () => {
        assertStatus(await run.delete(`blobs/${data.layer.digest}`), "2xx", 405);
      });

      if (!run.deleteManifestBeforeBlobs) deleteManifests();

      it("References teardown (artifact manifests, config[4], reference and empty JSON blobs: each 2xx, 404 or 405)", async () => {
        const manifests = [
          data.refsIndex,
          data.refsAConfig,
          data.refsALayer,
          data.manifests[4]!,
          data.refsBConfig,
          data.refsBLayer,
        ];
        const deleteManifestsNow = async () => {
          for (const m of manifests) assertStatus(await run.delete(`manifests/${m.digest}`), "2xx", 404, 405);
        };
        if (run.deleteManifestBeforeBlobs) await deleteManifestsNow();
        for (const blob of [data.configs[4]!, data.refBlobA, data.refBlobB, data.emptyJson]) {
          assertStatus(await run.delete(`blobs/${blob.digest}`), "2xx", 404, 405);
        }
        if (!run.deleteManifestBeforeBlobs) await deleteManifestsNow();
      });
    });
  });
}
