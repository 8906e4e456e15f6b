import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { CATALOG_MEMO_TTL_MS } from "../../shared/registry/catalog-memo.js";
import { ManifestService } from "../../shared/registry/manifest-service.js";
import { useAzurite } from "../helpers/azurite.js";
import { imageManifest, sha256 } from "../helpers/content.js";
import { overriding } from "../helpers/overriding.js";
import { bytes, OCI_MANIFEST, pushBlob } from "../protocol/support.js";
import { lifecycleApp, type LifecycleApp } from "./support.js";

/**
 * A re-tag skips the catalog upsert when this instance wrote the row moments ago
 * (catalog-memo.ts), and writes it again once that is not known: after the memo's expiry,
 * after a forget (a deleted or dropped repository), and after an upsert that failed.
 */
describe("Manifest PUT: the catalog row a re-tag may skip", () => {
  const azurite = useAzurite();
  let app: LifecycleApp;

  before(async () => {
    ({ app } = await lifecycleApp(azurite().connectionString));
  });

  it("a new deployment has no removals value: no memo stands on it, and the first push sets one", async () => {
    const repository = "memo/new-deployment";
    const manifest = await manifestIn(app, repository);
    assert.equal((await app.storage.collection.sweepEpoch()).removals, "");
    const { service, catalogWrites } = counted(app, Date.now);
    await service.put(repository, "v1", bytes(manifest), OCI_MANIFEST);
    const { removals } = await app.storage.collection.sweepEpoch();
    assert.notEqual(removals, "");
    // v1 remembered no value, and v2's P0 is v1's P2', read before v1 set it
    await service.put(repository, "v2", bytes(manifest), OCI_MANIFEST);
    await service.put(repository, "v3", bytes(manifest), OCI_MANIFEST);
    assert.equal(catalogWrites(), 3);
    await service.put(repository, "v4", bytes(manifest), OCI_MANIFEST);
    assert.equal(catalogWrites(), 3, "v3's write stands");
    assert.equal((await app.storage.collection.sweepEpoch()).removals, removals, "set once");
  });

  it("a re-tag skips the catalog upsert only while this instance wrote the row within the expiry", async () => {
    const repository = "memo/retag";
    const manifest = await manifestIn(app, repository);
    const clock = { now: Date.now() };
    const { service, catalogWrites } = counted(app, () => clock.now);

    await service.put(repository, "v1", bytes(manifest), OCI_MANIFEST);
    assert.equal(catalogWrites(), 1, "a first push writes the row");
    await service.put(repository, "v2", bytes(manifest), OCI_MANIFEST);
    assert.equal(catalogWrites(), 1, "a re-tag moments later does not");

    clock.now += CATALOG_MEMO_TTL_MS;
    await service.put(repository, "v3", bytes(manifest), OCI_MANIFEST);
    assert.equal(catalogWrites(), 2, "after the expiry it writes the row again");
    await service.put(repository, "v4", bytes(manifest), OCI_MANIFEST);
    assert.equal(catalogWrites(), 2);

    service.forget(repository);
    await service.put(repository, "v5", bytes(manifest), OCI_MANIFEST);
    assert.equal(catalogWrites(), 3, "a forgotten repository (deleted or dropped here) is written again");

    const other = await manifestIn(app, repository, "another image");
    await service.put(repository, "v6", bytes(other), OCI_MANIFEST);
    assert.equal(catalogWrites(), 4, "a manifest new to the repository always writes it");
    for (const tag of ["v1", "v2", "v3", "v4", "v5"])
      assert.equal((await app.storage.registry.metadata.getTag(repository, tag))?.digest, sha256(manifest));
  });

  it("a removal from the catalog anywhere since the remembered write: a re-tag here writes the row", async () => {
    // the review's interleaving: the removal happens elsewhere (not forgotten here), then a
    // push elsewhere commits and fails to write the row, and its retry is a re-tag here
    const repository = "memo/removed-elsewhere";
    const first = await manifestIn(app, repository, "first image");
    const here = counted(app, Date.now);
    await here.service.put(repository, "v1", bytes(first), OCI_MANIFEST);
    assert.equal(here.catalogWrites(), 1);

    await app.lifecycle.deleteRepository(repository); // another instance, or the CLI
    const second = await manifestIn(app, repository, "second image");
    const elsewhere = counted(app, Date.now);
    elsewhere.failNextCatalogWrite();
    await assert.rejects(elsewhere.service.put(repository, "v2", bytes(second), OCI_MANIFEST), /catalog unavailable/);
    assert.equal(await app.storage.registry.metadata.hasRepository(repository), false, "committed, not listed");

    await here.service.put(repository, "v2", bytes(second), OCI_MANIFEST);
    assert.equal(here.catalogWrites(), 2, "the re-tag saw the removal and wrote the row");
    assert.equal(await app.storage.registry.metadata.hasRepository(repository), true);
    await here.service.put(repository, "v3", bytes(second), OCI_MANIFEST);
    assert.equal(here.catalogWrites(), 2, "and skips it again after that");
  });

  it("a push whose catalog upsert failed leaves no memo: its retry, a re-tag, lists the repository", async () => {
    const repository = "memo/failed-upsert";
    const manifest = await manifestIn(app, repository);
    const { service, catalogWrites, failNextCatalogWrite } = counted(app, Date.now);

    failNextCatalogWrite();
    await assert.rejects(service.put(repository, "v1", bytes(manifest), OCI_MANIFEST), /catalog unavailable/);
    assert.equal(await app.storage.registry.metadata.hasRepository(repository), false, "committed, not listed");

    await service.put(repository, "v1", bytes(manifest), OCI_MANIFEST);
    assert.equal(catalogWrites(), 2);
    assert.equal(await app.storage.registry.metadata.hasRepository(repository), true);
  });
});

/** Unreferenced blobs in the repository and the manifest over them (not pushed). */
async function manifestIn(app: LifecycleApp, repository: string, name = "an image"): Promise<string> {
  const parts = [`${name} config`, `${name} layer`];
  await Promise.all(parts.map((part) => pushBlob(app, repository, part)));
  const [config, layer] = parts.map((part) => ({ digest: sha256(part), size: Buffer.byteLength(part) }));
  return imageManifest(config as { digest: string; size: number }, [layer as { digest: string; size: number }]);
}

/** A manifest service on the app's storage whose catalog upserts are counted (and can fail once). */
function counted(app: LifecycleApp, now: () => number) {
  const metadata = app.storage.registry.metadata;
  let writes = 0;
  let failNext = false;
  const counting = overriding(metadata, {
    async addRepository(repository: string) {
      writes++;
      if (failNext) {
        failNext = false;
        throw new Error("catalog unavailable (simulated)");
      }
      await metadata.addRepository(repository);
    },
  });
  const options = { maxManifestBytes: 1 << 20, maxManifestReferences: 1000, now };
  return {
    service: new ManifestService(app.storage.registry.blobs, counting, options, app.storage.collection),
    catalogWrites: () => writes,
    failNextCatalogWrite: () => void (failNext = true),
  };
}
