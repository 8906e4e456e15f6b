import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { MANIFEST_CACHE_TTL_MS } from "../../shared/registry/manifest-cache.js";
import { RegistryService } from "../../shared/registry/registry-service.js";
import type { RegistryStorage } from "../../shared/storage/ports/registry-storage.js";
import { useAzurite } from "../helpers/azurite.js";
import { handBuiltRegistry, SMALL_REGISTRY, type TestRegistry } from "../helpers/registry.js";
import { pushImage } from "./support.js";

/**
 * Manifests by digest are served from a per-instance cache for a bounded time: deleted
 * through this instance they are gone at once, through another within MANIFEST_CACHE_TTL_MS;
 * an entry serves only the repository it was read from. Two instances share one storage; the
 * clock is moved, not slept.
 */
describe("manifest cache", () => {
  const azurite = useAzurite();
  let now = Date.parse("2030-01-01T00:00:00Z");
  let one: TestRegistry;
  let other: TestRegistry;

  before(async () => {
    let shared: RegistryStorage | undefined;
    one = await handBuiltRegistry(azurite().connectionString, (storage) => {
      shared = storage;
      const registry = new RegistryService(storage, { ...SMALL_REGISTRY, now: () => now });
      return () => registry;
    });
    const registry = new RegistryService(shared as RegistryStorage, { ...SMALL_REGISTRY, now: () => now });
    other = await handBuiltRegistry(azurite().connectionString, () => () => registry);
  });

  const status = async (registry: TestRegistry, path: string, method = "GET") => {
    const response = await registry.fetch(path, { method });
    await response.arrayBuffer();
    return response.status;
  };

  it("stops serving a manifest deleted through this instance at once", async () => {
    const { digest } = await pushImage(one, "cache/here", "v1");
    assert.equal(await status(one, `/v2/cache/here/manifests/${digest}`), 200);
    assert.equal(await status(one, `/v2/cache/here/manifests/${digest}`, "DELETE"), 202);
    assert.equal(await status(one, `/v2/cache/here/manifests/${digest}`), 404);
    assert.equal(await status(one, `/v2/cache/here/manifests/${digest}`, "HEAD"), 404);
  });

  it("stops serving a manifest deleted through another instance within the bound", async () => {
    const { digest } = await pushImage(one, "cache/there", "v1");
    assert.equal(await status(one, `/v2/cache/there/manifests/${digest}`), 200, "read, and so cached, here");
    assert.equal(await status(other, `/v2/cache/there/manifests/${digest}`, "DELETE"), 202);
    assert.equal(await status(other, `/v2/cache/there/manifests/${digest}`), 404, "gone where it was deleted");
    now += MANIFEST_CACHE_TTL_MS;
    assert.equal(await status(one, `/v2/cache/there/manifests/${digest}`), 404, "gone here once the bound passed");
    assert.equal(await status(one, `/v2/cache/there/manifests/${digest}`, "HEAD"), 404);
  });

  it("serves a cached manifest only to the repository it was read from", async () => {
    const { digest } = await pushImage(one, "cache/linked", "v1", "same-content");
    assert.equal(await status(one, `/v2/cache/linked/manifests/${digest}`), 200);
    assert.equal(await status(one, `/v2/cache/unlinked/manifests/${digest}`), 404);
  });

  it("caches no miss: a manifest pushed through another instance is served at once", async () => {
    const { digest } = await pushImage(one, "cache/late", "v1", "late");
    await status(one, `/v2/cache/late/manifests/${digest}`, "DELETE");
    assert.equal(await status(one, `/v2/cache/late/manifests/${digest}`), 404);
    await pushImage(other, "cache/late", "v1", "late");
    assert.equal(await status(one, `/v2/cache/late/manifests/${digest}`), 200);
  });
});
