import { loadavg } from "node:os";
import type { MetricsOverhead } from "./metrics-overhead.js";
import type { Ceiling } from "./azurite-ceiling.js";
import type { ColdStart } from "./cold-start.js";
import type { LargePull, LargePush } from "./large-layer.js";
import type { ManifestCalls } from "./manifest-calls.js";
import type { ManifestLoad } from "./manifest-load.js";
import type { ImagePush, UploadMode } from "./small-image.js";
import type { LoadResult } from "./load.js";
import type { BlobCalls } from "./small-blob-calls.js";
import type { SkopeoCopies } from "./skopeo.js";
import type { TableCeiling } from "./table-ceiling.js";
import type { SubscribedTagPuts } from "./subscribed-tag-puts.js";
import type { TagPuts } from "./tag-put-load.js";
import type { Throughput } from "./timing.js";

/** Everything one run measured, as written to the JSON file. */
export interface TargetResults {
  /** Spawn -> first answered GET /v2/ of the process measured below (new container/tables for Stowage). */
  firstStartMs?: number;
  largePush?: LargePush;
  largePull?: LargePull;
  /** Stowage only: the same pull from a second server with STOWAGE_BLOB_REDIRECT=true. */
  largePullRedirect?: LargePull;
  /** The large layer as a one-layer image, copied in and out with skopeo (best of two). */
  skopeo?: SkopeoCopies;
  smallImages?: Partial<Record<UploadMode, ImagePush | { unsupported: string }>>;
  manifests?: ManifestLoad;
  /** Stowage only: manifest GET throughput with STOWAGE_METRICS on versus off. */
  metricsOverhead?: MetricsOverhead;
  coldStart?: ColdStart;
  /** Manifest PUT by tag rates (and after the repository grew). */
  tagPuts?: TagPuts;
  /** Stowage only: the same with a webhook subscribed to pushes (each PUT queues its event). */
  tagPutsSubscribed?: SubscribedTagPuts;
  /** Stowage only: GET /token with Basic credentials under load. */
  tokenIssue?: LoadResult;
  /** Stowage only: storage requests per small blob pushed, per upload pattern. */
  smallBlobCalls?: Partial<Record<UploadMode, BlobCalls>>;
  /** Stowage only: storage requests per manifest GET/HEAD by tag, GET by digest, PUT by tag. */
  manifestCalls?: ManifestCalls;
  /** Phase -> error message, for phases that failed. */
  errors: Record<string, string>;
}

export interface BenchResults {
  meta: {
    startedAt: string;
    finishedAt?: string;
    node: string;
    cpus: number;
    cpuModel: string;
    /** 1-minute load average at start and end: other work on the machine skews everything. */
    loadAverageStart: number;
    loadAverageEnd?: number;
    layerMiB: number;
    /** Large-layer rounds; each figure is the best of them (settings.transferRounds). */
    transferRounds?: number;
    azurite: string;
    loadSeconds: number;
    connections: number;
    smallImage: string;
    /** e.g. "50 x 64 KiB" */
    smallImageShort: string;
    phases: string[];
    notes: string[];
  };
  /** The client alone making and hashing the layer's bytes (no I/O): the push's upper bound here. */
  clientFloor?: Throughput;
  /** Raw Azurite: the blob transfer, and the table calls behind the manifest paths. */
  azurite: {
    ceiling?: Ceiling;
    tables?: TableCeiling;
    /** Seconds Azurite alone takes for the image push's storage calls per blob (small-blob-ceiling.ts). */
    smallBlobs?: Partial<Record<UploadMode, number>>;
    errors: Record<string, string>;
  };
  stowage: TargetResults;
  /** The relay control (relay-server.ts): the large layer, and a HEAD by tag, through the least a Node relay does. */
  relay?: TargetResults & { headByTag?: LoadResult };
  distribution: (TargetResults & { version: string }) | { skipped: string };
}

/** Runs one phase; a failure is recorded (and printed) instead of ending the whole run. */
export async function phase<T>(
  errors: Record<string, string>,
  name: string,
  work: () => Promise<T>,
): Promise<T | undefined> {
  process.stdout.write(`  ${name} ... `);
  const started = performance.now();
  try {
    const result = await work();
    console.log(`done (${((performance.now() - started) / 1000).toFixed(1)} s, load ${loadavg()[0]?.toFixed(2)})`);
    return result;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    errors[name] = message;
    console.log(`FAILED: ${message.split("\n")[0]}`);
    return undefined;
  }
}
