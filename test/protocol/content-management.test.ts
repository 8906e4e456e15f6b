import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { useAzurite } from "../helpers/azurite.js";
import { createTestRegistry, type TestRegistry } from "../helpers/registry.js";
import { assertError, OCI_INDEX, pushBlob, pushImage, pushManifest } from "./support.js";

describe("OCI Distribution: content management (deletes)", () => {
  const azurite = useAzurite();
  let registry: TestRegistry;
  /** STOWAGE_DELETE_ENABLED=false */
  let readOnly: TestRegistry;

  before(async () => {
    registry = await createTestRegistry(azurite().connectionString);
    readOnly = await createTestRegistry(azurite().connectionString, { STOWAGE_DELETE_ENABLED: "false" });
  });

  const del = (reg: TestRegistry, path: string) => reg.fetch(path, { method: "DELETE" });

  it("DELETE of a manifest by digest answers 202; it, and every tag on it, are gone", async () => {
    const repo = "manage/by-digest";
    const image = await pushImage(registry, repo, "one");
    await pushManifest(registry, repo, "two", image.manifest, "application/vnd.oci.image.manifest.v1+json");
    const other = await pushImage(registry, repo, "keep", "other");

    const response = await del(registry, `/v2/${repo}/manifests/${image.digest}`);
    assert.equal(response.status, 202);
    await assertError(await registry.fetch(`/v2/${repo}/manifests/${image.digest}`), 404, "MANIFEST_UNKNOWN");
    await assertError(await registry.fetch(`/v2/${repo}/manifests/one`), 404, "MANIFEST_UNKNOWN");
    const head = await registry.fetch(`/v2/${repo}/manifests/two`, { method: "HEAD" });
    assert.equal(head.status, 404);
    assert.equal((await head.arrayBuffer()).byteLength, 0);
    const tags = (await (await registry.fetch(`/v2/${repo}/tags/list`)).json()) as { tags: string[] };
    assert.deepEqual(tags.tags, ["keep"]);
    assert.equal((await registry.fetch(`/v2/${repo}/manifests/${other.digest}`)).status, 200);
  });

  it("DELETE of a manifest by tag answers 202 and removes only the tag", async () => {
    const repo = "manage/by-tag";
    const image = await pushImage(registry, repo, "a");
    await pushManifest(registry, repo, "b", image.manifest, "application/vnd.oci.image.manifest.v1+json");
    assert.equal((await del(registry, `/v2/${repo}/manifests/a`)).status, 202);
    await assertError(await registry.fetch(`/v2/${repo}/manifests/a`), 404, "MANIFEST_UNKNOWN");
    assert.equal((await registry.fetch(`/v2/${repo}/manifests/b`)).status, 200);
    assert.equal((await registry.fetch(`/v2/${repo}/manifests/${image.digest}`)).status, 200);
  });

  it("DELETE of an unknown manifest or tag answers 404 MANIFEST_UNKNOWN", async () => {
    const repo = "manage/unknown";
    await pushImage(registry, repo, "x");
    await assertError(await del(registry, `/v2/${repo}/manifests/nope`), 404, "MANIFEST_UNKNOWN");
    await assertError(await del(registry, `/v2/${repo}/manifests/sha256:${"a".repeat(64)}`), 404, "MANIFEST_UNKNOWN");
  });

  it("DELETE of a manifest by a malformed digest is 400 DIGEST_INVALID, never a 5xx", async () => {
    await assertError(await del(registry, "/v2/manage/unknown/manifests/sha256:totallywrong"), 400, "DIGEST_INVALID");
  });

  it("DELETE of a blob answers 202; then GET and HEAD give BLOB_UNKNOWN in that repository only", async () => {
    const digest = await pushBlob(registry, "manage/blob-a", "shared layer");
    await pushBlob(registry, "manage/blob-b", "shared layer");
    assert.equal((await del(registry, `/v2/manage/blob-a/blobs/${digest}`)).status, 202);
    await assertError(await registry.fetch(`/v2/manage/blob-a/blobs/${digest}`), 404, "BLOB_UNKNOWN");
    assert.equal((await registry.fetch(`/v2/manage/blob-a/blobs/${digest}`, { method: "HEAD" })).status, 404);
    assert.equal((await registry.fetch(`/v2/manage/blob-b/blobs/${digest}`)).status, 200);
    await assertError(await del(registry, `/v2/manage/blob-a/blobs/${digest}`), 404, "BLOB_UNKNOWN");
  });

  it("a deleted blob can be pushed again", async () => {
    const digest = await pushBlob(registry, "manage/again", "again");
    await del(registry, `/v2/manage/again/blobs/${digest}`);
    await pushBlob(registry, "manage/again", "again");
    assert.equal((await registry.fetch(`/v2/manage/again/blobs/${digest}`)).status, 200);
  });

  it("with deletes disabled, every DELETE answers 405 UNSUPPORTED and nothing is removed", async () => {
    const repo = "manage/read-only";
    const image = await pushImage(readOnly, repo, "t");
    const blob = await pushBlob(readOnly, repo, "blob");
    for (const path of [
      `/v2/${repo}/manifests/${image.digest}`,
      `/v2/${repo}/manifests/t`,
      `/v2/${repo}/blobs/${blob}`,
    ]) {
      await assertError(await del(readOnly, path), 405, "UNSUPPORTED");
    }
    assert.equal((await readOnly.fetch(`/v2/${repo}/manifests/t`)).status, 200);
    assert.equal((await readOnly.fetch(`/v2/${repo}/blobs/${blob}`)).status, 200);
  });

  it("an index whose child was deleted can no longer be pushed", async () => {
    const repo = "manage/index";
    const child = await pushImage(registry, repo, "child");
    const index = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_INDEX,
      manifests: [
        { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: child.digest, size: child.manifest.length },
      ],
    });
    await del(registry, `/v2/${repo}/manifests/${child.digest}`);
    const response = await registry.fetch(`/v2/${repo}/manifests/multi`, {
      method: "PUT",
      body: index,
      headers: { "Content-Type": OCI_INDEX },
    });
    await assertError(response, 404, "MANIFEST_BLOB_UNKNOWN");
  });
});
