import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { useAzurite } from "../helpers/azurite.js";
import { sha256 } from "../helpers/content.js";
import { createTestRegistry, type TestRegistry } from "../helpers/registry.js";
import { assertError, EMPTY_DIGEST, OCI_INDEX, OCI_MANIFEST, pushBlob, pushImage, pushManifest } from "./support.js";

interface Index {
  schemaVersion: number;
  mediaType: string;
  manifests: {
    mediaType: string;
    digest: string;
    size: number;
    artifactType?: string;
    annotations?: Record<string, string>;
  }[];
}

/** OCI 1.1 referrers, as oras/notation/cosign use them: artifacts attached to an image by `subject`. */
describe("OCI Distribution: referrers API", () => {
  const azurite = useAzurite();
  let registry: TestRegistry;
  const repo = "discover/app";
  let image: { manifest: string; digest: string };

  /** An artifact manifest in the OCI 1.1 style oras writes: empty config, artifactType, subject. */
  async function attach(artifactType: string, annotations: Record<string, string>, payload: string) {
    const layer = await pushBlob(registry, repo, payload);
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType,
      config: { mediaType: "application/vnd.oci.empty.v1+json", digest: EMPTY_DIGEST_JSON, size: 2 },
      layers: [{ mediaType: "application/octet-stream", digest: layer, size: payload.length }],
      subject: { mediaType: OCI_MANIFEST, digest: image.digest, size: image.manifest.length },
      annotations,
    });
    const response = await pushManifest(registry, repo, sha256(manifest), manifest, OCI_MANIFEST);
    return { manifest, digest: sha256(manifest), response };
  }
  const EMPTY_DIGEST_JSON = sha256("{}");

  const referrers = async (digest: string, query = "") => {
    const response = await registry.fetch(`/v2/${repo}/referrers/${digest}${query}`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), OCI_INDEX);
    return { response, index: (await response.json()) as Index };
  };

  before(async () => {
    registry = await createTestRegistry(azurite().connectionString);
    image = await pushImage(registry, repo, "v1");
    await pushBlob(registry, repo, "{}");
  });

  it("a manifest pushed with a subject gets the OCI-Subject header", async () => {
    const signature = await attach("application/vnd.example.signature", { "org.example.signer": "ci" }, "sig");
    assert.equal(signature.response.headers.get("oci-subject"), image.digest);
  });

  it("lists referrers as an image index, with artifactType and annotations copied into the descriptors", async () => {
    const sbom = await attach(
      "application/spdx+json",
      { "org.opencontainers.image.created": "2026-11-26T00:00:00Z" },
      "sbom",
    );
    const { index } = await referrers(image.digest);
    assert.equal(index.schemaVersion, 2);
    assert.equal(index.mediaType, OCI_INDEX);
    const entry = index.manifests.find((m) => m.digest === sbom.digest);
    assert.deepEqual(entry, {
      mediaType: OCI_MANIFEST,
      digest: sbom.digest,
      size: sbom.manifest.length,
      artifactType: "application/spdx+json",
      annotations: { "org.opencontainers.image.created": "2026-11-26T00:00:00Z" },
    });
    assert.ok(index.manifests.some((m) => m.artifactType === "application/vnd.example.signature"));
  });

  it("filters by artifactType and says so in OCI-Filters-Applied", async () => {
    const { response, index } = await referrers(image.digest, "?artifactType=application%2Fspdx%2Bjson");
    assert.equal(response.headers.get("oci-filters-applied"), "artifactType");
    assert.ok(index.manifests.length >= 1);
    assert.ok(index.manifests.every((m) => m.artifactType === "application/spdx+json"));
  });

  it("answers an empty index (200) for a digest with no referrers, or one that does not exist", async () => {
    assert.deepEqual((await referrers(EMPTY_DIGEST)).index.manifests, []);
    assert.deepEqual((await referrers(`sha256:${"b".repeat(64)}`)).index.manifests, []);
  });

  it("accepts referrers pushed before their subject exists", async () => {
    const ghost = `sha256:${"c".repeat(64)}`;
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: "application/vnd.example.early",
      config: { mediaType: "application/vnd.oci.empty.v1+json", digest: EMPTY_DIGEST_JSON, size: 2 },
      layers: [],
      subject: { mediaType: OCI_MANIFEST, digest: ghost, size: 123 },
    });
    await pushManifest(registry, repo, sha256(manifest), manifest, OCI_MANIFEST);
    assert.deepEqual(
      (await referrers(ghost)).index.manifests.map((m) => m.digest),
      [sha256(manifest)],
    );
  });

  it("derives artifactType from the config media type when the manifest has none", async () => {
    const config = "config of a helm chart";
    const configDigest = await pushBlob(registry, repo, config);
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: "application/vnd.cncf.helm.config.v1+json", digest: configDigest, size: config.length },
      layers: [],
      subject: { mediaType: OCI_MANIFEST, digest: image.digest, size: image.manifest.length },
    });
    await pushManifest(registry, repo, sha256(manifest), manifest, OCI_MANIFEST);
    const { index } = await referrers(image.digest, "?artifactType=application/vnd.cncf.helm.config.v1%2Bjson");
    assert.deepEqual(
      index.manifests.map((m) => m.digest),
      [sha256(manifest)],
    );
  });

  it("a deleted referrer disappears from the index", async () => {
    const doomed = await attach("application/vnd.example.doomed", {}, "doomed");
    assert.ok((await referrers(image.digest)).index.manifests.some((m) => m.digest === doomed.digest));
    assert.equal((await registry.fetch(`/v2/${repo}/manifests/${doomed.digest}`, { method: "DELETE" })).status, 202);
    assert.ok(!(await referrers(image.digest)).index.manifests.some((m) => m.digest === doomed.digest));
  });

  it("referrers are per repository", async () => {
    await pushImage(registry, "discover/other", "v1");
    const response = await registry.fetch(`/v2/discover/other/referrers/${image.digest}`);
    assert.deepEqual(((await response.json()) as Index).manifests, []);
    assert.ok((await referrers(image.digest)).index.manifests.length > 0);
  });

  it("rejects a malformed digest with 400 DIGEST_INVALID", async () => {
    await assertError(await registry.fetch(`/v2/${repo}/referrers/sha256:nothex`), 400, "DIGEST_INVALID");
  });

  it("rejects annotations that are not strings with MANIFEST_INVALID", async () => {
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: "application/vnd.oci.empty.v1+json", digest: EMPTY_DIGEST_JSON, size: 2 },
      layers: [],
      annotations: { count: 3 },
    });
    const response = await registry.fetch(`/v2/${repo}/manifests/bad-annotations`, {
      method: "PUT",
      body: manifest,
      headers: { "Content-Type": OCI_MANIFEST },
    });
    await assertError(response, 400, "MANIFEST_INVALID");
  });
});
