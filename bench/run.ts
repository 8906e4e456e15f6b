/**
 * `npm run bench`: Stowage measured against its storage ceiling (raw Azurite) and, when
 * installed, against CNCF distribution 2.8, side by side in one run. Starts one Azurite, the
 * registry as a child process, and the reference; stops all of them by PID at the end, on
 * failure and on Ctrl-C. Talks to 127.0.0.1 only. Results: a table on stdout and JSON in
 * dist/bench-results.json (BENCH_OUTPUT). Settings: bench/settings.ts.
 */
import { randomBytes } from "node:crypto";
import { cpus, loadavg } from "node:os";
import { startAzurite } from "../shared/server/azurite.js";
import { measureClientFloor } from "./client-floor.js";
import { measureColdStart, measureFunctionsEntryImport } from "./cold-start.js";
import { distributionVersion, findDistribution, startDistribution } from "./distribution.js";
import { cleanupAll, installExitHandlers, tempDir, trackProcess } from "./lifecycle.js";
import { countManifestCalls } from "./manifest-calls.js";
import { measureManifestLoad } from "./manifest-load.js";
import { call, expectStatus } from "./http.js";
import { measureMetricsOverhead } from "./metrics-overhead.js";
import { MiB, Pattern } from "./pattern.js";
import { errorCount, renderSummary, renderTable, writeResults } from "./report.js";
import { phase, type BenchResults, type TargetResults } from "./results.js";
import { loadSettings, type BenchSettings, type Phase } from "./settings.js";
import { loadAverages } from "./timing.js";
import { measureRelayHead, startRelayFloor } from "./relay-floor.js";
import { runSkopeoPhase } from "./skopeo-phase.js";
import { measureSmallBlobCeiling } from "./small-blob-ceiling.js";
import { measureSubscribedTagPuts } from "./subscribed-tag-puts.js";
import { MANIFEST_ACCEPT, pushSmallImage, UnsupportedError, UPLOAD_MODES, type ImagePush } from "./small-image.js";
import { countSmallBlobCalls } from "./small-blob-calls.js";
import { StorageCallCounter } from "./storage-call-counter.js";
import { startStowage } from "./stowage-server.js";
import { measureTableCeiling } from "./table-ceiling.js";
import { measureTagPuts } from "./tag-put-load.js";
import { measureTokenIssue } from "./token-load.js";
import { runTransferRounds } from "./transfer-phase.js";
import type { Target } from "./target.js";
import { findWrk } from "./wrk.js";

const AZURITE_NOTE: Record<BenchSettings["azurite"], string> = {
  disk:
    "Azurite is file-backed (--location in a temp dir), like `npm start`'s embedded Azurite and like " +
    "distribution's filesystem storage, and so a layer does not sit in Azurite's JS heap (BENCH_AZURITE=memory to change)",
  memory: "Azurite is in-memory (--inMemoryPersistence): layers live in Azurite's heap",
};

async function main(): Promise<number> {
  const settings = loadSettings();
  installExitHandlers();
  const watchdog = setTimeout(() => {
    console.error(
      `\nwatchdog: the run exceeded ${settings.timeoutSeconds} s (BENCH_TIMEOUT_SECONDS); stopping everything`,
    );
    void cleanupAll().finally(() => process.exit(2));
  }, settings.timeoutSeconds * 1000);

  const layerBytes = settings.layerMiB * MiB;
  // generous: a 2 MB/s floor plus a minute, so only a hung transfer hits it
  const transferTimeoutMs = Math.round((layerBytes / 2e6) * 1000) + 60_000;
  const smallImage = `${settings.smallLayers} x ${settings.smallLayerKiB} KiB layers, ${settings.smallConcurrency} at a time`;
  const results: BenchResults = {
    meta: {
      startedAt: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? "unknown",
      loadAverageStart: loadavg()[0] ?? NaN,
      layerMiB: settings.layerMiB,
      transferRounds: settings.phases.has("push") ? settings.transferRounds : 1,
      azurite: settings.azurite === "disk" ? "file-backed (temp dir)" : "in-memory",
      loadSeconds: settings.loadSeconds,
      connections: settings.connections,
      smallImage,
      smallImageShort: `${settings.smallLayers} x ${settings.smallLayerKiB} KiB`,
      phases: [...settings.phases],
      notes: [AZURITE_NOTE[settings.azurite], "MB/s = 10^6 bytes per second; ratios are Stowage / reference"],
    },
    azurite: { errors: {} },
    stowage: { errors: {} },
    distribution: { skipped: "not requested (BENCH_PHASES has no 'reference')" },
  };
  const has = (p: Phase) => settings.phases.has(p);
  let stopping: number | undefined;

  try {
    console.log(
      `Stowage benchmark: ${settings.layerMiB} MiB layer, Azurite ${results.meta.azurite}, phases ${[...settings.phases].join(",")}`,
    );
    console.log(`load average (1, 5, 15 min) at start: ${loadAverages()}`);
    console.log("starting Azurite and the registries");
    const azurite = await startAzurite(settings.azurite === "disk" ? { location: tempDir("azurite") } : {});
    trackProcess("azurite", azurite.pid, azurite.stop);

    const id = randomBytes(4).toString("hex");
    const storage = { connectionString: azurite.connectionString, container: `bench-${id}`, tablePrefix: `bench${id}` };
    const stowage = await startStowage({ ...storage, cpuProfDir: settings.cpuProfDir });
    results.stowage.firstStartMs = stowage.startMs;
    const targets: { target: Target; results: TargetResults }[] = [{ target: stowage, results: results.stowage }];

    let restartDistribution: (() => Promise<Target>) | undefined;
    if (has("reference")) {
      const binary = findDistribution();
      if (!binary) {
        results.distribution = { skipped: "docker-registry not installed (Debian: apt-get install docker-registry)" };
      } else {
        const dist: TargetResults & { version: string } = { version: await distributionVersion(binary), errors: {} };
        results.distribution = dist;
        const dir = tempDir("distribution");
        restartDistribution = () => startDistribution({ binary, dir });
        const target = await phase(dist.errors, "start distribution", restartDistribution);
        if (target) {
          dist.firstStartMs = target.startMs;
          targets.push({ target, results: dist });
        }
      }
    }
    console.log(renderSummary(results).split("\n").slice(0, 4).join("\n"));

    if (has("ceiling")) {
      results.clientFloor = await phase(results.azurite.errors, "client only: generate + sha256", async () =>
        measureClientFloor(new Pattern(layerBytes)),
      );
    }
    // the relay control: the same layer and HEADs through the least a Node relay does (relay-server.ts)
    const relay =
      has("push") || has("manifest")
        ? await phase(results.azurite.errors, "start the relay control", () =>
            startRelayFloor(azurite.connectionString),
          )
        : undefined;
    if (relay) results.relay = { errors: {} };
    if (has("ceiling") || has("push")) {
      await runTransferRounds({
        targets,
        stowage,
        relay,
        storage,
        results,
        settings,
        id,
        transferTimeoutMs,
        storagePid: azurite.pid,
      });
    }

    if (has("skopeo")) {
      await runSkopeoPhase(targets, results, {
        layerBytes,
        repository: `bench/skopeo-${id}`,
        timeoutMs: transferTimeoutMs,
      });
    }

    const forManifests = new Map<Target, ImagePush>();
    const pushImage = async (target: Target, r: TargetResults, mode: (typeof UPLOAD_MODES)[number]) => {
      const pushed = await phase(r.errors, `image push (${mode})`, async () => {
        try {
          return await pushSmallImage(target, `bench/small-${mode}-${id}`, {
            count: settings.smallLayers,
            size: settings.smallLayerKiB * 1024,
            concurrency: settings.smallConcurrency,
            mode,
          });
        } catch (error) {
          if (error instanceof UnsupportedError) return { unsupported: error.message };
          throw error;
        }
      });
      if (pushed) (r.smallImages ??= {})[mode] = pushed;
      if (pushed && "seconds" in pushed && !forManifests.has(target)) forManifests.set(target, pushed);
    };
    if (has("small")) {
      console.log(`many small layers: ${smallImage}`);
      results.azurite.smallBlobs = await phase(results.azurite.errors, "Azurite alone: the same calls per blob", () =>
        measureSmallBlobCeiling(azurite.connectionString, {
          count: settings.smallLayers,
          size: settings.smallLayerKiB * 1024,
          concurrency: settings.smallConcurrency,
        }),
      );
      for (const mode of UPLOAD_MODES) {
        for (const { target, results: r } of targets) {
          console.log(`${target.name}:`);
          await pushImage(target, r, mode);
        }
      }
    }

    if (has("manifest")) {
      const wrk = findWrk();
      console.log(
        `manifest reads: ${settings.loadSeconds} s each, ${settings.connections} keep-alive connections${wrk ? ", plus wrk" : ""}`,
      );
      if (!wrk) results.meta.notes.push("wrk not found: manifest GETs measured with the Node client only");
      for (const { target, results: r } of targets) {
        console.log(`${target.name}:`);
        if (!forManifests.has(target)) await pushImage(target, r, "docker");
        const image = forManifests.get(target);
        if (!image) continue;
        const repository = `bench/small-${image.mode}-${id}`;
        r.manifests = await phase(r.errors, "manifest GET/HEAD load", () =>
          measureManifestLoad(target, repository, image.tag, image.manifestDigest, {
            connections: settings.connections,
            seconds: settings.loadSeconds,
            wrk,
          }),
        );
      }
      const image = forManifests.get(stowage);
      if (relay && results.relay && image) {
        console.log("relay control:");
        results.relay.headByTag = await phase(results.relay.errors, "HEAD by tag load", () =>
          measureRelayHead(stowage, relay, `bench/small-${image.mode}-${id}`, image.tag, settings),
        );
      }
    }

    if (has("metrics")) {
      console.log(`metrics cost: manifest GET by tag, STOWAGE_METRICS off vs loopback, 3 alternating rounds`);
      if (!forManifests.has(stowage)) await pushImage(stowage, results.stowage, "docker");
      const image = forManifests.get(stowage);
      if (image) {
        const path = `/v2/bench/small-${image.mode}-${id}/manifests/${image.tag}`;
        results.stowage.metricsOverhead = await phase(results.stowage.errors, "metrics on/off", async () => {
          const metered = await startStowage({ ...storage, env: { STOWAGE_METRICS: "loopback" } }, "stowage-metrics");
          try {
            return await measureMetricsOverhead(stowage, metered, path, {
              connections: settings.connections,
              seconds: settings.loadSeconds,
              rounds: 3,
            });
          } finally {
            await metered.child.stop();
          }
        });
        const overhead = results.stowage.metricsOverhead;
        if (overhead) console.log(`  metrics on / off = ${overhead.ratio.toFixed(3)} of manifest GET throughput`);
      }
    }

    if (has("tables")) {
      console.log(
        `Azurite table ceilings (SDK straight to Azurite): point reads at ${settings.connections} for ${settings.loadSeconds} s, ` +
          `then ${Math.min(2, settings.loadSeconds)} s each at 1 and ${settings.clients} clients, writes again at ${settings.tags} rows`,
      );
      if (!forManifests.has(stowage)) await pushImage(stowage, results.stowage, "docker");
      const image = forManifests.get(stowage);
      if (image) {
        results.azurite.tables = await phase(results.azurite.errors, "point reads, upserts, batches", async () => {
          const path = `/v2/bench/small-${image.mode}-${id}/manifests/${image.manifestDigest}`;
          const headers = { Accept: MANIFEST_ACCEPT };
          const manifest = expectStatus(
            await call(`${stowage.url}${path}`, { method: "GET", headers, timeoutMs: 30_000 }),
            200,
            "GET manifest",
          );
          return measureTableCeiling(azurite.connectionString, {
            manifest: manifest.body,
            mediaType: String(manifest.headers["content-type"]),
            connections: settings.connections,
            clients: settings.clients,
            seconds: settings.loadSeconds,
            opSeconds: Math.min(2, settings.loadSeconds), // 11 of them: the run must stay short
            fillTo: settings.tags,
          });
        });
      }
    }

    if (has("tags")) {
      console.log(
        `manifest PUT by tag: ${settings.loadSeconds} s at 1 and ${settings.clients} clients, again at ${settings.tags} tags`,
      );
      for (const { target, results: r } of targets) {
        console.log(`${target.name}:`);
        if (!forManifests.has(target)) await pushImage(target, r, "docker");
        const image = forManifests.get(target);
        if (!image) continue;
        r.tagPuts = await phase(r.errors, "manifest PUT by tag", () =>
          measureTagPuts(target, `bench/small-${image.mode}-${id}`, image.manifestDigest, {
            clients: settings.clients,
            seconds: settings.loadSeconds,
            fillTo: settings.tags,
          }),
        );
      }
      console.log("stowage with a push webhook subscribed:");
      results.stowage.tagPutsSubscribed = await phase(results.stowage.errors, "manifest PUT by tag", () =>
        measureSubscribedTagPuts(storage, `bench/webhook-${id}`, {
          clients: settings.clients,
          seconds: settings.loadSeconds,
        }),
      );
    }

    if (has("token")) {
      console.log(`token issue with Basic credentials: ${settings.loadSeconds} s, ${settings.clients} clients`);
      const issued = await phase(results.stowage.errors, "GET /token (Basic)", () =>
        measureTokenIssue(stowage, `bench/token-${id}`, {
          connections: settings.clients,
          seconds: settings.loadSeconds,
        }),
      );
      if (issued) results.stowage.tokenIssue = issued;
    }

    if (has("calls")) {
      console.log(
        "storage calls per small blob and per manifest request (a server whose storage goes through a counting proxy)",
      );
      if (!forManifests.has(stowage)) await pushImage(stowage, results.stowage, "docker");
      const image = forManifests.get(stowage);
      const counted = await phase(results.stowage.errors, "count storage calls", async () => {
        const counter = await StorageCallCounter.start(azurite.connectionString);
        try {
          const server = await startStowage(
            // no webhook poller: its queue reads are not the blob's
            { ...storage, connectionString: counter.connectionString, env: { STOWAGE_WEBHOOK_DELIVERY: "false" } },
            "stowage-counted",
          );
          try {
            const blobs = await countSmallBlobCalls(server, `bench/calls-${id}`, counter, {
              blobs: 10,
              size: settings.smallLayerKiB * 1024,
            });
            const manifests =
              image &&
              (await countManifestCalls(
                server,
                `bench/small-${image.mode}-${id}`,
                { tag: image.tag, digest: image.manifestDigest },
                counter,
                10,
              ));
            return { blobs, manifests };
          } finally {
            await server.child.stop();
          }
        } finally {
          await counter.stop();
        }
      });
      results.stowage.smallBlobCalls = counted?.blobs;
      if (counted?.manifests) results.stowage.manifestCalls = counted.manifests;
    }

    if (has("cold")) {
      console.log(`cold start against existing storage, ${settings.coldStarts} times each`);
      results.stowage.coldStart = await phase(results.stowage.errors, "stowage", () =>
        measureColdStart(() => startStowage(storage, "stowage-cold-start"), settings.coldStarts),
      );
      const entry = await phase(results.stowage.errors, "Functions entry import", () =>
        measureFunctionsEntryImport(settings.coldStarts),
      );
      if (entry && results.stowage.coldStart) results.stowage.coldStart.functionsEntry = entry;
      const dist = "skipped" in results.distribution ? undefined : results.distribution;
      if (dist && restartDistribution) {
        const restart = restartDistribution;
        dist.coldStart = await phase(dist.errors, "distribution", () => measureColdStart(restart, settings.coldStarts));
      }
    }

    process.stdout.write("stopping the registries and Azurite ... ");
    stopping = performance.now();
    for (const { target } of [...targets].reverse()) await target.child.stop();
    if (settings.cpuProfDir) console.log(`Stowage CPU profile written to ${settings.cpuProfDir}`);
  } finally {
    await cleanupAll();
    clearTimeout(watchdog);
  }
  if (stopping !== undefined) console.log(`done (${((performance.now() - stopping) / 1000).toFixed(1)} s)`);

  results.meta.finishedAt = new Date().toISOString();
  results.meta.loadAverageEnd = loadavg()[0];
  const took = (Date.parse(results.meta.finishedAt) - Date.parse(results.meta.startedAt)) / 1000;
  console.log(`load average (1, 5, 15 min) at end: ${loadAverages()}; the run took ${took.toFixed(0)} s`);
  console.log(`\n${renderSummary(results)}\n\n${renderTable(results)}\n`);
  console.log(`results: ${writeResults(results, settings.output)}`);
  return errorCount(results) > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  async (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    await cleanupAll();
    process.exit(1);
  },
);
