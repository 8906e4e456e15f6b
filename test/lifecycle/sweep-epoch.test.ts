import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { BlobSweeper } from "../../shared/registry/blob-sweeper.js";
import { RegistryError } from "../../shared/registry/errors.js";
import { ManifestService } from "../../shared/registry/manifest-service.js";
import type { BlobAccountSource } from "../../shared/storage/azure/azure-blob-store.js";
import { AzureCollectionStore } from "../../shared/storage/azure/azure-collection-store.js";
import type { CollectionStore } from "../../shared/storage/ports/collection-store.js";
import { useAzurite } from "../helpers/azurite.js";
import { imageManifest, sha256 } from "../helpers/content.js";
import { overriding } from "../helpers/overriding.js";
import { RecordingProxy } from "../helpers/recording-proxy.js";
import { bytes, OCI_MANIFEST, pushBlob, pushManifest } from "../protocol/support.js";
import { blobStatus, lifecycleApp, manifestStatus, type LifecycleApp } from "./support.js";

/**
 * The sweep epoch (blob-sweeper.ts): a manifest PUT claims its blobs one by one only when a
 * sweep may have marked while it ran, and a sweep interleaved at any step of a push, or a push
 * at any step of a sweep, never leaves an acknowledged manifest over a missing blob.
 */
describe("Garbage collection: the sweep epoch spares pushes the per-blob claims", () => {
  const azurite = useAzurite();
  let app: LifecycleApp;
  let proxy: RecordingProxy;

  before(async () => {
    proxy = await RecordingProxy.start(azurite());
    ({ app } = await lifecycleApp(proxy.connectionString));
    await app.storage.collection.changeRemovals(); // as the first push of a deployment does (catalog-memo.ts)
  });
  after(() => proxy.stop());

  it("a re-tag with no sweep running costs 2 storage calls (the epoch once, no manifest read, no catalog row) and claims no blob", async () => {
    const parts = ["retag config", ...Array.from({ length: 8 }, (_, i) => `retag layer ${i}`)];
    const manifest = await imageOver(app, "epoch/retag", parts);
    await pushManifest(app, "epoch/retag", "v1", manifest, OCI_MANIFEST);
    const from = proxy.requests.length;
    await pushManifest(app, "epoch/retag", "v2", manifest, OCI_MANIFEST);
    // the push event goes to its queue (not the registry's storage calls counted here)
    const calls = proxy.requests.slice(from).filter((call) => call.service !== "queue");
    // the epoch before it is the one the v1 push read last, and the v1 push wrote the catalog row
    assert.equal(calls.length, 2, calls.map((c) => `${c.method} ${c.url}`).join("\n"));
    assert.equal(calls.filter((c) => c.url.includes("manifest%3A")).length, 0, "no manifest read: the batch checks");
    assert.equal(calls.filter((c) => c.url.includes("blobs(")).length, 0, "no blob-index row read");
  });

  it("claims every blob while a sweep is marking, or one crashed mid-way, and none once a sweep completes", async () => {
    const parts = ["flag config", "flag layer a", "flag layer b"];
    const manifest = await imageOver(app, "epoch/flag", parts);
    const calls: string[] = [];
    const service = manifests(app, instrumented(app.storage.collection, calls));
    const retag = async (tag: string) => {
      calls.length = 0;
      await service.put("epoch/flag", tag, bytes(manifest), OCI_MANIFEST);
      return calls.filter((name) => name === "claimBlob").length;
    };
    assert.equal(await retag("new"), 0, "no sweep has ever run");

    const token = await app.storage.collection.beginMarking(); // a sweep is marking
    assert.equal(await retag("marking"), parts.length);
    await app.storage.collection.endMarking(token);
    assert.equal(await retag("ended"), 0);

    const crashing = new BlobSweeper(crashWhenDeciding(app.storage.collection), app.storage.registry.blobs);
    await pushBlob(app, "epoch/flag", "garbage for the crashed sweep");
    await assert.rejects(crashing.sweep({ graceMs: 0, dryRun: false, batchSize: 1000, now: Date.now }), /crash/);
    assert.equal(await retag("after a crash"), parts.length, "a crashed sweep leaves the flag set");
    await app.lifecycle.collectGarbage({ graceMs: 0 });
    assert.equal(await retag("after a complete sweep"), 0, "a complete sweep clears it");
    const { epoch, marking } = await app.storage.collection.sweepEpoch();
    assert.deepEqual({ epoch, marking }, { epoch: 3, marking: false });
  });

  it("two sweeps overlapping (a lost lease): the first one's end leaves the flag set, the second one's clears it", async () => {
    const store = app.storage.collection;
    const first = await store.beginMarking();
    const second = await store.beginMarking();
    await store.endMarking(first);
    assert.equal((await store.sweepEpoch()).marking, true, "the second sweep is still marking");
    await store.endMarking(second);
    assert.equal((await store.sweepEpoch()).marking, false);
  });

  it("a sweep run at any step of a push never deletes what the push acknowledged", async () => {
    // cold: the push reads its own P0; warm: it takes the epoch an earlier push read
    for (const warm of [false, true]) {
      const outcomes = new Map<string, number>();
      for (let step = 0; ; step++) {
        const repository = `epoch/push-step-${step}${warm ? "-warm" : ""}`;
        const parts = [`config at push step ${step} ${warm}`, `layer at push step ${step} ${warm}`];
        const manifest = await imageOver(app, repository, parts);
        const calls: string[] = [];
        const gate = interrupting(() => sweep(app.storage.collection, app));
        const service = gatedManifests(app, calls, gate);
        if (warm) {
          const other = `${repository}-other`;
          await service.put(other, "latest", bytes(await imageOver(app, other, [`other ${step}`])), OCI_MANIFEST);
          calls.length = 0;
        }
        gate.at = step;
        const outcome = await outcomeOf(service.put(repository, "latest", bytes(manifest), OCI_MANIFEST));
        if (!gate.reached) break; // the push made fewer calls than `step`: every step has been tried
        outcomes.set(`${calls[step]} (call ${step})`, outcome === "acknowledged" ? 1 : 0);
        await sweep(app.storage.collection, app);
        if (outcome === "acknowledged") await assertPullable(app, repository, parts);
      }
      assert.ok(outcomes.size >= (warm ? 5 : 6), JSON.stringify([...outcomes]));
      const acknowledged = [...outcomes.values()].filter((ok) => ok === 1).length;
      assert.ok(
        acknowledged > 0 && acknowledged < outcomes.size,
        `both outcomes occur (warm ${warm}): ${JSON.stringify([...outcomes])}`,
      );
    }
  });

  it("a re-tag whose manifest is deleted and swept at any step is never acknowledged over missing blobs", async () => {
    // the re-tag relies on the stored manifest without reading it: its batch commits only if the row is there
    const outcomes = new Map<string, string>();
    for (let step = 0; ; step++) {
      const repository = `epoch/retag-step-${step}`;
      const parts = [`config at re-tag step ${step}`, `layer at re-tag step ${step}`];
      const manifest = await imageOver(app, repository, parts);
      const calls: string[] = [];
      const gate = interrupting(async () => {
        assert.ok(await app.storage.registry.metadata.deleteManifest(repository, sha256(manifest)));
        await sweep(app.storage.collection, app);
      });
      const service = gatedManifests(app, calls, gate);
      // the first push stores it (and leaves the epoch it read for the re-tag's P0)
      await service.put(repository, "v1", bytes(manifest), OCI_MANIFEST);
      calls.length = 0;
      gate.at = step;
      const outcome = await outcomeOf(service.put(repository, "latest", bytes(manifest), OCI_MANIFEST));
      if (!gate.reached) break; // the push made fewer calls than `step`: every step has been tried
      outcomes.set(`${calls[step]} (call ${step})`, outcome);
      // deleted after the commit, the manifest is gone (push, then delete): nothing to pull
      if (outcome === "acknowledged" && (await manifestStatus(app, repository, "latest")) === 200)
        await assertPullable(app, repository, parts);
    }
    // the batch and the epoch read after it (the first push wrote the catalog row moments ago)
    assert.ok(outcomes.size >= 2, JSON.stringify([...outcomes]));
    assert.equal(outcomes.get("putManifestIfStored (call 0)"), "refused", JSON.stringify([...outcomes]));
  });

  it("a push undone by a sweep tells its observer (the event decorator): committed, then withdrawn", async () => {
    const repository = "epoch/withdrawn";
    const manifest = await imageOver(app, repository, ["withdrawn config", "withdrawn layer"]);
    const digest = sha256(manifest);
    const store = app.storage.collection;
    // a sweep marking throughout, that has already taken the blobs (every claim fails)
    const losing = overriding(store, {
      sweepEpoch: async () => ({ epoch: 99, marking: true, removals: "" }),
      claimBlob: async () => false,
    });
    const told: string[] = [];
    const observer = {
      committed: async (result: { digest: string }) => void told.push(`committed ${result.digest}`),
      withdrawn: async (withdrawn: string) => void told.push(`withdrawn ${withdrawn}`),
    };
    await assert.rejects(
      manifests(app, losing).put(repository, "latest", bytes(manifest), OCI_MANIFEST, observer),
      (error) => refusal(error) === "refused",
    );
    assert.deepEqual(told, [`committed ${digest}`, `withdrawn ${digest}`]);
    assert.equal(await manifestStatus(app, repository, "latest"), 404);
  });

  it("a push whose event cannot be queued while a sweep marks still claims its blobs, then fails", async () => {
    const parts = ["unqueued config", "unqueued layer"];
    const manifest = await imageOver(app, "epoch/unqueued", parts);
    const calls: string[] = [];
    const service = manifests(app, instrumented(app.storage.collection, calls));
    const failing = {
      committed: async () => {
        throw new Error("queue unavailable (simulated)");
      },
      withdrawn: async () => undefined,
    };
    const token = await app.storage.collection.beginMarking();
    try {
      await assert.rejects(
        service.put("epoch/unqueued", "latest", bytes(manifest), OCI_MANIFEST, failing),
        /queue unavailable/,
      );
    } finally {
      await app.storage.collection.endMarking(token);
    }
    // claimed before the failure is raised: a retry, seeing no sweep, re-tags without claiming
    assert.equal(calls.filter((name) => name === "claimBlob").length, parts.length);
  });

  it("a push whose catalog row cannot be written while a sweep marks still claims its blobs, then fails", async () => {
    const parts = ["uncatalogued config", "uncatalogued layer"];
    const manifest = await imageOver(app, "epoch/uncatalogued", parts);
    const calls: string[] = [];
    const failing = overriding(app.storage.registry.metadata, {
      addRepository: async () => Promise.reject(new Error("catalog unavailable (simulated)")),
    });
    const service = new ManifestService(
      app.storage.registry.blobs,
      failing,
      MANIFEST_OPTIONS,
      instrumented(app.storage.collection, calls),
    );
    const token = await app.storage.collection.beginMarking();
    try {
      await assert.rejects(
        service.put("epoch/uncatalogued", "latest", bytes(manifest), OCI_MANIFEST),
        /catalog unavailable/,
      );
    } finally {
      await app.storage.collection.endMarking(token);
    }
    assert.equal(calls.filter((name) => name === "claimBlob").length, parts.length);
  });

  it("a removal from the catalog while a sweep marks does not keep the sweep from clearing its flag", async () => {
    const store = app.storage.collection;
    const token = await store.beginMarking();
    const { removals } = await store.sweepEpoch();
    await store.removeFromCatalog("epoch/not-listed-anyway");
    const during = await store.sweepEpoch();
    assert.equal(during.marking, true);
    assert.notEqual(during.removals, removals, "the removal is seen");
    await store.endMarking(token);
    assert.deepEqual(await store.sweepEpoch(), { ...during, marking: false });

    // a removal between endMarking's read and its conditional write: it reads again
    const racing = storeOverTables(app, (tables) => {
      const update = tables.repositories.updateEntity.bind(tables.repositories);
      const updateEntity: typeof update = async (entity, ...rest) => {
        if ((entity as { marking?: boolean }).marking === false && !raced) {
          raced = true;
          await store.removeFromCatalog("epoch/not-listed-either");
        }
        return update(entity, ...rest);
      };
      return { ...tables, repositories: overriding(tables.repositories, { updateEntity }) };
    });
    let raced = false;
    const again = await racing.beginMarking();
    await racing.endMarking(again);
    assert.ok(raced);
    assert.equal((await store.sweepEpoch()).marking, false);
  });

  it("a push run at any step of a sweep is acknowledged only over blobs the sweep keeps", async () => {
    let acknowledged = 0;
    let deleted = 0;
    for (let step = 0; ; step++) {
      const repository = `epoch/sweep-step-${step}`;
      const parts = [`config at sweep step ${step}`, `layer at sweep step ${step}`];
      const manifest = await imageOver(app, repository, parts);
      let outcome = "not run";
      const calls: string[] = [];
      const gate = {
        at: step,
        run: async () => {
          const push = manifests(app, app.storage.collection).put(repository, "latest", bytes(manifest), OCI_MANIFEST);
          outcome = await outcomeOf(push);
        },
      };
      const report = await sweep(instrumented(app.storage.collection, calls, gate), app);
      if (outcome === "not run") break;
      deleted += report.blobs.count;
      await sweep(app.storage.collection, app);
      if (outcome === "acknowledged") {
        acknowledged++;
        await assertPullable(app, repository, parts);
      }
    }
    assert.ok(acknowledged > 0, "some pushes were acknowledged");
    assert.ok(deleted > 0, "the sweeps deleted garbage meanwhile");
  });
});

type CollectionTables = ConstructorParameters<typeof AzureCollectionStore>[0];

/** A collection store over the app's own tables, as `wrap` changes them. */
function storeOverTables(
  app: LifecycleApp,
  wrap: (tables: CollectionTables) => CollectionTables,
): AzureCollectionStore {
  const store = app.storage.collection as AzureCollectionStore;
  const { tables, blobAccount } = store as unknown as { tables: CollectionTables; blobAccount: BlobAccountSource };
  return new AzureCollectionStore(wrap(tables), blobAccount);
}

/** Blobs with these contents in the repository, unreferenced; the manifest over them (not pushed). */
async function imageOver(app: LifecycleApp, repository: string, parts: string[]): Promise<string> {
  await Promise.all(parts.map((part) => pushBlob(app, repository, part)));
  const [config, ...layers] = parts.map((part) => ({ digest: sha256(part), size: Buffer.byteLength(part) }));
  return imageManifest(config as { digest: string; size: number }, layers);
}

const MANIFEST_OPTIONS = { maxManifestBytes: 1 << 20, maxManifestReferences: 1000, now: Date.now };

function manifests(app: LifecycleApp, collection: CollectionStore): ManifestService {
  return new ManifestService(app.storage.registry.blobs, app.storage.registry.metadata, MANIFEST_OPTIONS, collection);
}

/** A manifest service whose stores record every call into `calls` and pause the one numbered `gate.at`. */
function gatedManifests(app: LifecycleApp, calls: string[], gate: Gate): ManifestService {
  const metadata = instrumented(app.storage.registry.metadata, calls, gate);
  return new ManifestService(
    app.storage.registry.blobs,
    metadata,
    MANIFEST_OPTIONS,
    instrumented(app.storage.collection, calls, gate),
  );
}

/** A full sweep with no grace period (no lease: these tests are its only caller). */
async function sweep(store: CollectionStore, app: LifecycleApp) {
  return new BlobSweeper(store, app.storage.registry.blobs).sweep({
    graceMs: 0,
    dryRun: false,
    batchSize: 1000,
    now: Date.now,
  });
}

/** "acknowledged", or "refused" when the push failed for a blob the sweep took (anything else is thrown). */
function outcomeOf(push: Promise<unknown>): Promise<string> {
  return push.then(() => "acknowledged", refusal);
}

function refusal(error: unknown): string {
  if (error instanceof RegistryError && error.code === "MANIFEST_BLOB_UNKNOWN") return "refused";
  throw error;
}

async function assertPullable(app: LifecycleApp, repository: string, parts: string[]): Promise<void> {
  assert.equal(await manifestStatus(app, repository, "latest"), 200, repository);
  for (const part of parts)
    assert.equal(await blobStatus(app, repository, sha256(part)), 200, `${repository}: ${part}`);
}

const PAGED = new Set(["blobIndexPages", "manifestPages", "linkPages", "bytesPages"]);

/**
 * The store with every call recorded by method name into `calls` (shared by several stores,
 * so it is one sequence); with a gate, the call numbered `gate.at` waits for `gate.run` first.
 */
interface Gate {
  at: number;
  run: () => Promise<void>;
}

/** A gate (set `at` later) that runs `interrupt` when its call comes, and records that it came. */
function interrupting(interrupt: () => Promise<unknown>): Gate & { reached: boolean } {
  const gate = {
    at: -1,
    reached: false,
    run: async () => {
      gate.reached = true;
      await interrupt();
    },
  };
  return gate;
}

function instrumented<T extends object>(store: T, calls: string[], gate?: Gate): T {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver) as unknown;
      if (typeof value !== "function") return value;
      const method = value as (...args: unknown[]) => unknown;
      return (...args: unknown[]) => {
        const index = calls.push(String(property)) - 1;
        const wait = index === gate?.at ? gate.run() : undefined;
        if (PAGED.has(String(property)))
          return (async function* () {
            await wait;
            yield* method.apply(target, args) as AsyncIterable<unknown>;
          })();
        return wait ? wait.then(() => method.apply(target, args)) : method.apply(target, args);
      };
    },
  });
}

/** The store of a sweep that dies between marking and deciding (rows left "marked", the flag set). */
function crashWhenDeciding(store: CollectionStore): CollectionStore {
  return overriding(store, {
    async setBlobState(digest, state, etag) {
      if (state === "deleting") throw new Error("crash (simulated)");
      return store.setBlobState(digest, state, etag);
    },
  });
}
