import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { before, describe, it } from "node:test";
import { useAzurite } from "../helpers/azurite.js";
import { imageManifest, sha256 } from "../helpers/content.js";
import { createTestRegistry, type TestRegistry } from "../helpers/registry.js";
import {
  assertError,
  bodyBytes,
  bytes,
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  OCI_INDEX,
  OCI_MANIFEST,
  pushBlob,
  pushImage,
  pushManifest,
} from "./support.js";

describe("OCI Distribution: pushing and pulling manifests", () => {
  const azurite = useAzurite();
  let registry: TestRegistry;
  /** Accepts manifests of at most 2048 bytes, referencing at most 3 distinct blobs or manifests. */
  let strict: TestRegistry;

  const repo = "push/manifests";
  const config = JSON.stringify({ architecture: "amd64", os: "linux" });
  const layer = "layer bytes";
  let configRef: { digest: string; size: number };
  let layerRef: { digest: string; size: number };

  before(async () => {
    [registry, strict] = await Promise.all([
      createTestRegistry(azurite().connectionString),
      createTestRegistry(azurite().connectionString, {
        STOWAGE_MAX_MANIFEST_BYTES: "2048",
        STOWAGE_MAX_MANIFEST_REFERENCES: "3",
      }),
    ]);
    configRef = { digest: await pushBlob(registry, repo, config), size: config.length };
    layerRef = { digest: await pushBlob(registry, repo, layer), size: layer.length };
  });

  function put(
    reg: TestRegistry,
    repository: string,
    reference: string,
    body: string | Uint8Array,
    mediaType: string,
  ): Promise<Response> {
    return reg.fetch(`/v2/${repository}/manifests/${reference}`, {
      method: "PUT",
      body: bytes(body),
      headers: { "Content-Type": mediaType },
    });
  }

  /** GET and HEAD by tag and by digest all describe the same bytes, typed with the media type. */
  async function assertServed(
    repository: string,
    tag: string | undefined,
    body: string,
    mediaType: string,
  ): Promise<void> {
    const digest = sha256(body);
    for (const reference of tag ? [tag, digest] : [digest]) {
      const get = await registry.fetch(`/v2/${repository}/manifests/${reference}`, { headers: { Accept: mediaType } });
      assert.equal(get.status, 200, `GET ${reference}`);
      assert.equal(get.headers.get("content-type"), mediaType);
      assert.equal(get.headers.get("docker-content-digest"), digest);
      assert.equal(get.headers.get("content-length"), String(Buffer.byteLength(body)));
      assert.equal((await bodyBytes(get)).toString("utf8"), body);
      const head = await registry.fetch(`/v2/${repository}/manifests/${reference}`, {
        method: "HEAD",
        headers: { Accept: mediaType },
      });
      assert.equal(head.status, 200, `HEAD ${reference}`);
      assert.equal(head.headers.get("content-type"), mediaType);
      assert.equal(head.headers.get("docker-content-digest"), digest);
      assert.equal(head.headers.get("content-length"), String(Buffer.byteLength(body)));
      assert.equal(await head.text(), "");
    }
  }

  function assertCreated(response: Response, repository: string, digest: string): void {
    assert.equal(response.status, 201);
    assert.equal(response.headers.get("location"), `/v2/${repository}/manifests/${digest}`);
    assert.equal(response.headers.get("docker-content-digest"), digest);
  }

  describe("Pushing and pulling an OCI image manifest (end-7, end-3)", () => {
    it("PUT by tag answers 201 with Location and Docker-Content-Digest", async () => {
      const body = imageManifest(configRef, [layerRef]);
      assertCreated(await put(registry, repo, "v1", body, OCI_MANIFEST), repo, sha256(body));
      await assertServed(repo, "v1", body, OCI_MANIFEST);
    });

    it("PUT by digest answers 201 and the manifest is pullable by digest, without creating a tag", async () => {
      const body = imageManifest(configRef, [layerRef], { annotations: { by: "digest" } });
      const digest = sha256(body);
      assertCreated(await put(registry, repo, digest, body, OCI_MANIFEST), repo, digest);
      await assertServed(repo, undefined, body, OCI_MANIFEST);
      const tags = (await (await registry.fetch(`/v2/${repo}/tags/list`)).json()) as { tags: string[] };
      assert.ok(!tags.tags.includes(digest));
    });

    it("stores the bytes exactly as pushed (whitespace and key order preserved)", async () => {
      const body = `{\n  "schemaVersion": 2,\n  "layers": [],\n  "mediaType": "${OCI_MANIFEST}",\n  "config": ${JSON.stringify({ mediaType: "application/vnd.oci.image.config.v1+json", ...configRef })}\n}\n`;
      assertCreated(await put(registry, repo, "pretty", body, OCI_MANIFEST), repo, sha256(body));
      await assertServed(repo, "pretty", body, OCI_MANIFEST);
    });

    it("ignores parameters on the Content-Type header", async () => {
      const body = imageManifest(configRef, [], { annotations: { params: "yes" } });
      assertCreated(await put(registry, repo, "params", body, `${OCI_MANIFEST}; charset=utf-8`), repo, sha256(body));
      await assertServed(repo, "params", body, OCI_MANIFEST);
    });

    it("a manifest without a mediaType field is typed by its Content-Type", async () => {
      const body = JSON.stringify({
        schemaVersion: 2,
        config: { mediaType: "application/vnd.docker.container.image.v1+json", ...configRef },
        layers: [],
      });
      assertCreated(await put(registry, repo, "untyped", body, DOCKER_MANIFEST), repo, sha256(body));
      await assertServed(repo, "untyped", body, DOCKER_MANIFEST);
    });

    it("serves a manifest just under the inline size byte for byte", async () => {
      const body = imageManifest(configRef, [layerRef], { annotations: { filler: "i".repeat(59_000) } });
      assertCreated(await put(registry, repo, "inline", body, OCI_MANIFEST), repo, sha256(body));
      await assertServed(repo, "inline", body, OCI_MANIFEST);
    });

    it("serves a manifest too large to keep inline (stored as a blob) byte for byte", async () => {
      const body = imageManifest(configRef, [layerRef], { annotations: { filler: "x".repeat(100_000) } });
      assertCreated(await put(registry, repo, "large", body, OCI_MANIFEST), repo, sha256(body));
      await assertServed(repo, "large", body, OCI_MANIFEST);
    });

    it("a manifest is visible only in the repository it was pushed to", async () => {
      const { digest } = await pushImage(registry, "scope/one", "latest");
      await assertError(await registry.fetch(`/v2/scope/two/manifests/${digest}`), 404, "MANIFEST_UNKNOWN");
    });
  });

  describe("Manifest references must exist in the repository", () => {
    it("a missing layer is 404 MANIFEST_BLOB_UNKNOWN", async () => {
      const missing = sha256("missing layer");
      const body = imageManifest(configRef, [layerRef, { digest: missing, size: 13 }]);
      const entry = await assertError(
        await put(registry, repo, "broken", body, OCI_MANIFEST),
        404,
        "MANIFEST_BLOB_UNKNOWN",
      );
      assert.deepEqual(entry.detail, { digest: missing });
      await assertError(await registry.fetch(`/v2/${repo}/manifests/broken`), 404, "MANIFEST_UNKNOWN");
    });

    it("a missing config is 404 MANIFEST_BLOB_UNKNOWN", async () => {
      const body = imageManifest({ digest: sha256("missing config"), size: 14 }, [layerRef]);
      await assertError(await put(registry, repo, "noconfig", body, OCI_MANIFEST), 404, "MANIFEST_BLOB_UNKNOWN");
    });

    it("a blob that exists only in another repository counts as missing", async () => {
      const elsewhere = await pushBlob(registry, "other/repo", "only over there");
      const body = imageManifest(configRef, [{ digest: elsewhere, size: 15 }]);
      await assertError(await put(registry, repo, "elsewhere", body, OCI_MANIFEST), 404, "MANIFEST_BLOB_UNKNOWN");
    });

    it("more distinct references than the limit is MANIFEST_INVALID, refused before any is looked up", async () => {
      const layers = [1, 2, 3].map((i) => ({ digest: sha256(`never pushed ${i}`), size: 14 }));
      const entry = await assertError(
        await put(strict, repo, "wide", imageManifest(configRef, layers), OCI_MANIFEST),
        400,
        "MANIFEST_INVALID",
      );
      assert.deepEqual(entry.detail, { references: 4, limit: 3 });
    });

    it("a layer listed many times counts and is looked up once", async () => {
      const body = imageManifest(
        configRef,
        Array.from({ length: 2000 }, () => layerRef),
      );
      const response = await put(registry, repo, "repeated", body, OCI_MANIFEST);
      assert.equal(response.status, 201, await response.text());
    });

    it("foreign layers (with urls) need not be in the registry", async () => {
      const body = JSON.stringify({
        schemaVersion: 2,
        mediaType: DOCKER_MANIFEST,
        config: { mediaType: "application/vnd.docker.container.image.v1+json", ...configRef },
        layers: [
          {
            mediaType: "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
            digest: sha256("foreign"),
            size: 7,
            urls: ["https://example.invalid/layer"],
          },
        ],
      });
      assertCreated(await put(registry, repo, "foreign", body, DOCKER_MANIFEST), repo, sha256(body));
    });
  });

  describe("Indexes and Docker formats", () => {
    it("an OCI index whose children exist is accepted, and served with its media type", async () => {
      const child = imageManifest(configRef, [layerRef], { annotations: { platform: "arm64" } });
      await pushManifest(registry, repo, sha256(child), child, OCI_MANIFEST);
      const index = JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [
          {
            mediaType: OCI_MANIFEST,
            digest: sha256(child),
            size: child.length,
            platform: { architecture: "arm64", os: "linux" },
          },
        ],
      });
      assertCreated(await put(registry, repo, "multi", index, OCI_INDEX), repo, sha256(index));
      await assertServed(repo, "multi", index, OCI_INDEX);
    });

    it("an OCI index with a missing child is 404 MANIFEST_BLOB_UNKNOWN", async () => {
      const index = JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [{ mediaType: OCI_MANIFEST, digest: sha256("no such child"), size: 13 }],
      });
      await assertError(await put(registry, repo, "orphan", index, OCI_INDEX), 404, "MANIFEST_BLOB_UNKNOWN");
    });

    it("a Docker schema2 manifest is accepted and served with its media type", async () => {
      const body = JSON.stringify({
        schemaVersion: 2,
        mediaType: DOCKER_MANIFEST,
        config: { mediaType: "application/vnd.docker.container.image.v1+json", ...configRef },
        layers: [{ mediaType: "application/vnd.docker.image.rootfs.diff.tar.gzip", ...layerRef }],
      });
      assertCreated(await put(registry, repo, "docker", body, DOCKER_MANIFEST), repo, sha256(body));
      await assertServed(repo, "docker", body, DOCKER_MANIFEST);
    });

    it("a Docker manifest list over existing manifests is accepted; a missing child is MANIFEST_BLOB_UNKNOWN", async () => {
      const child = JSON.stringify({
        schemaVersion: 2,
        mediaType: DOCKER_MANIFEST,
        config: { mediaType: "application/vnd.docker.container.image.v1+json", ...configRef },
        layers: [],
      });
      const list = (digest: string) =>
        JSON.stringify({
          schemaVersion: 2,
          mediaType: DOCKER_MANIFEST_LIST,
          manifests: [
            {
              mediaType: DOCKER_MANIFEST,
              digest,
              size: child.length,
              platform: { architecture: "amd64", os: "linux" },
            },
          ],
        });
      await assertError(
        await put(registry, repo, "list", list(sha256(child)), DOCKER_MANIFEST_LIST),
        404,
        "MANIFEST_BLOB_UNKNOWN",
      );
      await pushManifest(registry, repo, sha256(child), child, DOCKER_MANIFEST);
      const body = list(sha256(child));
      assertCreated(await put(registry, repo, "list", body, DOCKER_MANIFEST_LIST), repo, sha256(body));
      await assertServed(repo, "list", body, DOCKER_MANIFEST_LIST);
    });
  });

  describe("Invalid manifests", () => {
    it("a body that is not JSON is 400 MANIFEST_INVALID", async () => {
      await assertError(await put(registry, repo, "garbage", "{not json", OCI_MANIFEST), 400, "MANIFEST_INVALID");
    });

    it("JSON that is not an object is 400 MANIFEST_INVALID", async () => {
      await assertError(await put(registry, repo, "array", "[1,2,3]", OCI_MANIFEST), 400, "MANIFEST_INVALID");
    });

    it("an image manifest without layers is 400 MANIFEST_INVALID", async () => {
      const body = JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: { mediaType: "application/vnd.oci.image.config.v1+json", ...configRef },
      });
      await assertError(await put(registry, repo, "nolayers", body, OCI_MANIFEST), 400, "MANIFEST_INVALID");
    });

    it("a descriptor with a malformed digest is 400 MANIFEST_INVALID", async () => {
      const body = imageManifest(configRef, [{ digest: "sha256:totallywrong", size: 1 }]);
      await assertError(await put(registry, repo, "baddesc", body, OCI_MANIFEST), 400, "MANIFEST_INVALID");
    });

    it("a mediaType that contradicts Content-Type is 400 MANIFEST_INVALID", async () => {
      const body = imageManifest(configRef, [layerRef]);
      await assertError(await put(registry, repo, "contradiction", body, DOCKER_MANIFEST), 400, "MANIFEST_INVALID");
    });

    it("PUT by a digest that does not match the body is 400 DIGEST_INVALID, and nothing is stored", async () => {
      const body = imageManifest(configRef, [layerRef], { annotations: { wrong: "digest" } });
      const claimed = sha256("another body");
      await assertError(await put(registry, repo, claimed, body, OCI_MANIFEST), 400, "DIGEST_INVALID");
      await assertError(await registry.fetch(`/v2/${repo}/manifests/${claimed}`), 404, "MANIFEST_UNKNOWN");
      await assertError(await registry.fetch(`/v2/${repo}/manifests/${sha256(body)}`), 404, "MANIFEST_UNKNOWN");
    });

    it("a manifest over the size limit is refused with 413 SIZE_INVALID", async () => {
      const cfg = await pushBlob(strict, repo, config);
      const body = imageManifest({ digest: cfg, size: config.length }, [], {
        annotations: { filler: "x".repeat(3000) },
      });
      const entry = await assertError(await put(strict, repo, "huge", body, OCI_MANIFEST), 413, "SIZE_INVALID");
      assert.deepEqual(entry.detail, { limit: 2048 });
      await assertError(await strict.fetch(`/v2/${repo}/manifests/huge`), 404, "MANIFEST_UNKNOWN");
      // the same registry still takes manifests under its limit
      const small = imageManifest({ digest: cfg, size: config.length }, []);
      assertCreated(await put(strict, repo, "small", small, OCI_MANIFEST), repo, sha256(small));
    });

    it("a manifest over the limit is refused even when streamed without a Content-Length", async () => {
      const body = bytes(imageManifest(configRef, [], { annotations: { filler: "y".repeat(5000) } }));
      const response = await strict.fetch(`/v2/${repo}/manifests/streamed`, {
        method: "PUT",
        body: new ReadableStream({ start: (c) => (c.enqueue(body), c.close()) }),
        duplex: "half",
        headers: { "Content-Type": OCI_MANIFEST },
      });
      await assertError(response, 413, "SIZE_INVALID");
    });

    it("an invalid tag is 400 TAG_INVALID on PUT; on GET it names no manifest (404, as the conformance suite expects)", async () => {
      const body = imageManifest(configRef, [layerRef]);
      await assertError(await put(registry, repo, "-leading-dash", body, OCI_MANIFEST), 400, "TAG_INVALID");
      await assertError(await put(registry, repo, "t".repeat(129), body, OCI_MANIFEST), 400, "TAG_INVALID");
      await assertError(await registry.fetch(`/v2/${repo}/manifests/.dot`), 404, "MANIFEST_UNKNOWN");
    });
  });

  describe("Subjects (OCI 1.1 referrers)", () => {
    it("a manifest with a subject answers with the OCI-Subject header", async () => {
      const { digest: subject } = await pushImage(registry, "refs/app", "v1");
      const artifact = imageManifest({ digest: sha256("{}"), size: 2 }, [], {
        artifactType: "application/vnd.example.sbom",
        subject: { mediaType: OCI_MANIFEST, digest: subject, size: 1 },
      });
      await pushBlob(registry, "refs/app", "{}");
      const response = await put(registry, "refs/app", sha256(artifact), artifact, OCI_MANIFEST);
      assertCreated(response, "refs/app", sha256(artifact));
      assert.equal(response.headers.get("oci-subject"), subject);
    });

    it("a manifest without a subject has no OCI-Subject header", async () => {
      const body = imageManifest(configRef, [layerRef], { annotations: { subject: "none" } });
      const response = await put(registry, repo, "nosubject", body, OCI_MANIFEST);
      assert.equal(response.status, 201);
      assert.equal(response.headers.get("oci-subject"), null);
    });
  });

  describe("Tags move; digests do not", () => {
    it("pushing new content under an existing tag moves the tag, and the old digest stays pullable", async () => {
      const first = imageManifest(configRef, [layerRef], { annotations: { build: "1" } });
      const second = imageManifest(configRef, [layerRef], { annotations: { build: "2" } });
      await pushManifest(registry, repo, "moving", first, OCI_MANIFEST);
      await pushManifest(registry, repo, "moving", second, OCI_MANIFEST);
      const byTag = await registry.fetch(`/v2/${repo}/manifests/moving`);
      assert.equal(byTag.headers.get("docker-content-digest"), sha256(second));
      assert.equal(await byTag.text(), second);
      const head = await registry.fetch(`/v2/${repo}/manifests/moving`, { method: "HEAD" });
      assert.equal(head.headers.get("docker-content-digest"), sha256(second));
      const old = await registry.fetch(`/v2/${repo}/manifests/${sha256(first)}`);
      assert.equal(old.status, 200);
      assert.equal(await old.text(), first);
    });

    it("a tag may be moved to a different media type", async () => {
      const oci = imageManifest(configRef, [], { annotations: { kind: "oci" } });
      const docker = JSON.stringify({
        schemaVersion: 2,
        mediaType: DOCKER_MANIFEST,
        config: { mediaType: "application/vnd.docker.container.image.v1+json", ...configRef },
        layers: [],
      });
      await pushManifest(registry, repo, "kind", oci, OCI_MANIFEST);
      await pushManifest(registry, repo, "kind", docker, DOCKER_MANIFEST);
      const head = await registry.fetch(`/v2/${repo}/manifests/kind`, { method: "HEAD" });
      assert.equal(head.headers.get("content-type"), DOCKER_MANIFEST);
      assert.equal(head.headers.get("content-length"), String(docker.length));
    });
  });

  describe("Unknown manifests", () => {
    it("GET of an unknown tag is 404 MANIFEST_UNKNOWN", async () => {
      await assertError(await registry.fetch(`/v2/${repo}/manifests/nosuchtag`), 404, "MANIFEST_UNKNOWN");
    });

    it("GET of an unknown digest is 404 MANIFEST_UNKNOWN", async () => {
      await assertError(await registry.fetch(`/v2/${repo}/manifests/${sha256("nothing")}`), 404, "MANIFEST_UNKNOWN");
    });

    it("GET in a repository that does not exist is 404 MANIFEST_UNKNOWN", async () => {
      await assertError(await registry.fetch("/v2/no/such/repo/manifests/latest"), 404, "MANIFEST_UNKNOWN");
    });

    it("HEAD of an unknown manifest is 404 with no body", async () => {
      for (const reference of ["nosuchtag", sha256("nothing")]) {
        const response = await registry.fetch(`/v2/${repo}/manifests/${reference}`, { method: "HEAD" });
        assert.equal(response.status, 404);
        assert.equal(await response.text(), "");
      }
    });
  });

  describe("sha512 manifest digests", () => {
    it("PUT by a sha512 digest is verified with sha512 and pullable by it", async () => {
      const body = imageManifest(configRef, [layerRef], { annotations: { algorithm: "sha512" } });
      const digest = `sha512:${createHash("sha512").update(body).digest("hex")}`;
      assertCreated(await put(registry, repo, digest, body, OCI_MANIFEST), repo, digest);
      const get = await registry.fetch(`/v2/${repo}/manifests/${digest}`);
      assert.equal(get.status, 200);
      assert.equal(get.headers.get("docker-content-digest"), digest);
      assert.equal(await get.text(), body);
    });
  });
});
