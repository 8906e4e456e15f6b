import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { RegistryService } from "../../shared/registry/registry-service.js";
import { useAzurite } from "../helpers/azurite.js";
import { sha256 } from "../helpers/content.js";
import { createTestRegistry, handBuiltRegistry, SMALL_REGISTRY, type TestRegistry } from "../helpers/registry.js";
import { bodyBytes, nextLocation, OCI_MANIFEST, pushBlob, pushImage, withQuery } from "./support.js";

describe("Concurrent writers", () => {
  const azurite = useAzurite();
  let registry: TestRegistry;
  let autoMount: TestRegistry;

  before(async () => {
    registry = await createTestRegistry(azurite().connectionString);
    autoMount = await createTestRegistry(azurite().connectionString, { STOWAGE_AUTO_MOUNT: "true" });
  });

  it("two clients pushing the same tag leave it on one complete manifest, never a broken one", async () => {
    const repo = "race/tag";
    const a = await pushImage(registry, repo, "seed-a", "a");
    const b = await pushImage(registry, repo, "seed-b", "b");
    for (let round = 0; round < 10; round++) {
      const results = await Promise.all(
        [a, b].map((image) =>
          registry.fetch(`/v2/${repo}/manifests/latest`, {
            method: "PUT",
            body: image.manifest,
            headers: { "Content-Type": OCI_MANIFEST },
          }),
        ),
      );
      assert.deepEqual(
        results.map((r) => r.status),
        [201, 201],
      );
      const get = await registry.fetch(`/v2/${repo}/manifests/latest`);
      const body = await bodyBytes(get);
      const digest = get.headers.get("docker-content-digest");
      assert.equal(sha256(body), digest, "the tag serves exactly the manifest it names");
      assert.ok(digest === a.digest || digest === b.digest);
    }
  });

  it("with auto-mount on, POST ?mount= without from links a blob the registry already has", async () => {
    const digest = await pushBlob(autoMount, "mount/source", "auto mounted layer");
    const response = await autoMount.fetch(`/v2/mount/target/blobs/uploads/?mount=${digest}`, { method: "POST" });
    assert.equal(response.status, 201);
    assert.equal(response.headers.get("docker-content-digest"), digest);
    assert.equal((await autoMount.fetch(`/v2/mount/target/blobs/${digest}`)).status, 200);
  });

  it("with auto-mount off (the default), POST ?mount= without from opens a normal upload", async () => {
    const digest = await pushBlob(registry, "mount/source", "not auto mounted");
    const response = await registry.fetch(`/v2/mount/target/blobs/uploads/?mount=${digest}`, { method: "POST" });
    assert.equal(response.status, 202);
    assert.equal((await registry.fetch(`/v2/mount/target/blobs/${digest}`)).status, 404);
  });
});

describe("Abandoned uploads", () => {
  const azurite = useAzurite();

  it("an upload older than STOWAGE_UPLOAD_TTL_SECONDS is unknown (404 BLOB_UPLOAD_UNKNOWN) and cannot be finished", async () => {
    const registry = await createTestRegistry(azurite().connectionString, { STOWAGE_UPLOAD_TTL_SECONDS: "1" });
    const start = await registry.fetch("/v2/expiry/app/blobs/uploads/", { method: "POST" });
    const location = start.headers.get("location") as string;
    assert.equal((await registry.fetch(location)).status, 204);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const status = await registry.fetch(location);
    assert.equal(status.status, 404);
    assert.equal(((await status.json()) as { errors: { code: string }[] }).errors[0]?.code, "BLOB_UPLOAD_UNKNOWN");
    const put = await registry.fetch(withQuery(location, `digest=${sha256("late")}`), { method: "PUT", body: "late" });
    assert.equal(put.status, 404);
  });
});

describe("A completion interrupted after indexing its blob", () => {
  const azurite = useAzurite();

  it("cancelling (or expiring) the session afterwards keeps the bytes the index serves", async () => {
    const registry = await handBuiltRegistry(azurite().connectionString, (storage) => {
      // the link-and-forget-session transaction fails once, as if the instance died there
      let failOnce = true;
      const metadata = Object.create(storage.metadata) as typeof storage.metadata;
      metadata.completeUpload = async (...args) => {
        if (failOnce) {
          failOnce = false;
          throw new Error("instance died");
        }
        return storage.metadata.completeUpload(...args);
      };
      const service = new RegistryService({ blobs: storage.blobs, metadata }, SMALL_REGISTRY);
      return () => service;
    });
    const call = (path: string, init?: RequestInit) => registry.fetch(path, init);

    const data = "bytes that must survive";
    const start = await call("/v2/crash/one/blobs/uploads/", { method: "POST" });
    const patch = await call(start.headers.get("location") as string, { method: "PATCH", body: data });
    assert.equal(patch.status, 202);
    const location = nextLocation(patch);
    assert.equal((await call(withQuery(location, `digest=${sha256(data)}`), { method: "PUT" })).status, 500);
    assert.equal((await call(location, { method: "DELETE" })).status, 204);

    // another repository pushes the same content: it is deduplicated onto the indexed blob
    const again = await call(`/v2/crash/two/blobs/uploads/?digest=${sha256(data)}`, { method: "POST", body: data });
    assert.equal(again.status, 201);
    const read = await call(`/v2/crash/two/blobs/${sha256(data)}`);
    assert.equal(read.status, 200);
    assert.equal(await read.text(), data);
  });
});
