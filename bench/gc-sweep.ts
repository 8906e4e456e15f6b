import { createHash, randomBytes } from "node:crypto";
import { buildApp } from "../shared/app/build-app.js";
import { loadConfig } from "../shared/app/config.js";
import { mapLimit } from "../shared/lib/map-limit.js";
import { startAzurite } from "../shared/server/azurite.js";

/**
 * Sweep rate and memory of the online garbage collection over a registry of BLOBS blobs
 * (default 10,000; half referenced by manifests of 5 layers each, half garbage), against an
 * in-memory Azurite started here. `node dist/bench/gc-sweep.js [BLOBS]`; prints a table and
 * one JSON line.
 */
const BLOBS = Number(process.argv[2] ?? 10_000);
const LAYERS_PER_MANIFEST = 5;
const REPOSITORIES = 20;

async function main(): Promise<void> {
  const azurite = await startAzurite();
  try {
    const config = loadConfig({
      STOWAGE_STORAGE_CONNECTION_STRING: azurite.connectionString,
      STOWAGE_CONTAINER: "gcbench",
      STOWAGE_TABLE_PREFIX: "gcbench",
      STOWAGE_SECRETS_DIR: "/tmp/stowage-gc-bench-secrets",
    });
    const app = await buildApp(config, { log: () => undefined });
    const { blobs, metadata } = app.storage.registry;

    const seedStart = Date.now();
    const digests = await mapLimit(
      Array.from({ length: BLOBS }, (_, i) => i),
      48,
      async (i) => {
        const data = randomBytes(64);
        const digest = `sha256:${createHash("sha256").update(data).digest("hex")}`;
        const record = { digest, blobName: `blobs/${randomBytes(16).toString("hex")}`, size: data.byteLength };
        await blobs.put(record.blobName, data);
        await metadata.insertBlob(record);
        await metadata.linkBlob(`bench/r${i % REPOSITORIES}`, record);
        return { ...record, repository: `bench/r${i % REPOSITORIES}` };
      },
    );
    const referenced = digests.slice(0, BLOBS / 2);
    const groups = Array.from({ length: Math.ceil(referenced.length / LAYERS_PER_MANIFEST) }, (_, g) =>
      referenced.slice(g * LAYERS_PER_MANIFEST, (g + 1) * LAYERS_PER_MANIFEST),
    );
    await mapLimit(groups, 32, async (group) => {
      const [config, ...layers] = group;
      const descriptor = (d: { digest: string; size: number }, mediaType: string) => ({
        mediaType,
        digest: d.digest,
        size: d.size,
      });
      const content = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          config: descriptor(config as { digest: string; size: number }, "application/vnd.oci.image.config.v1+json"),
          layers: layers.map((l) => descriptor(l, "application/vnd.oci.image.layer.v1.tar")),
        }),
      );
      const digest = `sha256:${createHash("sha256").update(content).digest("hex")}`;
      await metadata.putManifest((config as { repository: string }).repository, {
        digest,
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        size: content.byteLength,
        content,
        createdAt: new Date().toISOString(),
      });
    });
    const seedSeconds = (Date.now() - seedStart) / 1000;
    console.error(`seeded in ${seedSeconds} s`);

    // the storage ceiling in the same run: plain point reads and upserts of the same rows
    const sample = digests.slice(0, Math.min(2000, digests.length));
    let started = performance.now();
    await mapLimit(sample, 16, (d) => metadata.getBlob(d.digest));
    const readsPerSecond = Math.round(sample.length / ((performance.now() - started) / 1000));
    started = performance.now();
    await mapLimit(sample, 16, (d) => metadata.linkBlob(d.repository, d));
    const writesPerSecond = Math.round(sample.length / ((performance.now() - started) / 1000));
    console.log(`Azurite here: ${readsPerSecond} point reads/s, ${writesPerSecond} upserts/s (16 in flight)`);

    const runs = [];
    for (const name of ["sweep (deletes half)", "sweep again (nothing to delete)"]) {
      if (global.gc) global.gc();
      const before = process.memoryUsage();
      let peakRss = before.rss;
      let peakHeap = before.heapUsed;
      const sampler = setInterval(() => {
        const now = process.memoryUsage();
        peakRss = Math.max(peakRss, now.rss);
        peakHeap = Math.max(peakHeap, now.heapUsed);
      }, 50);
      const started = performance.now();
      const report = await app.lifecycle.collectGarbage({ graceMs: 0 });
      const seconds = (performance.now() - started) / 1000;
      clearInterval(sampler);
      runs.push({
        name,
        seconds: Number(seconds.toFixed(2)),
        scanned: report.sweep.scanned,
        deleted: report.sweep.blobs.count,
        links: report.sweep.links,
        manifestsRead: report.sweep.manifestsRead,
        scannedPerSecond: Math.round(report.sweep.scanned / seconds),
        deletedPerSecond: Math.round(report.sweep.blobs.count / seconds),
        rssBeforeMiB: Math.round(before.rss / 2 ** 20),
        peakRssMiB: Math.round(peakRss / 2 ** 20),
        peakHeapMiB: Math.round(peakHeap / 2 ** 20),
        heapGrowthMiB: Math.round((peakHeap - before.heapUsed) / 2 ** 20),
      });
    }
    console.log(`seeded ${BLOBS} blobs, ${groups.length} manifests in ${seedSeconds.toFixed(1)} s`);
    console.table(runs);
    console.log(JSON.stringify({ blobs: BLOBS, manifests: groups.length, readsPerSecond, writesPerSecond, runs }));
  } finally {
    await azurite.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
