import { call, download, expectStatus, keepAliveAgent, location, withQuery } from "./http.js";
import { drainAndHash, HashingTap, type Pattern } from "./pattern.js";
import { meterCpu, type MeteredThroughput } from "./cpu-split.js";
import { RssSampler, rssMiB, type RssSummary } from "./rss.js";
import type { Target } from "./target.js";
import { now, throughput } from "./timing.js";

export interface LargePush {
  /** With the CPU the client, storage and the server spent on it. */
  push: MeteredThroughput;
  digest: string;
  /** Server RSS just before the push, MiB. */
  idleRssMiB: number;
  /** Server RSS while the push ran (sampled every 100 ms) and its VmHWM after. */
  pushRss: RssSummary;
}

export interface LargePull {
  /** With the CPU the client, storage and the server spent on it. */
  pull: MeteredThroughput;
  pullRss: RssSummary;
  /** The registry answered 307 and the bytes came from the Location (STOWAGE_BLOB_REDIRECT). */
  redirected: boolean;
}

/**
 * One large layer pushed the way Docker, podman and skopeo do: POST to open an upload, one
 * PATCH with the whole layer as a chunked stream (made on the fly and hashed as it is sent),
 * then PUT ?digest= with no body. `storagePid`: Azurite's process, metered with the client and server.
 */
export async function pushLargeLayer(
  target: Target,
  repository: string,
  pattern: Pattern,
  timeoutMs: number,
  storagePid?: number,
): Promise<LargePush> {
  const agent = keepAliveAgent(4);
  try {
    const idleRssMiB = rssMiB(target.pid);
    const sampler = new RssSampler(target.pid, 100).start();
    const tap = new HashingTap();
    let stopped = false;
    try {
      const stopMeter = meterCpu(storagePid, target.pid);
      const started = now();
      const opened = expectStatus(
        await call(`${target.url}/v2/${repository}/blobs/uploads/`, { method: "POST", agent, timeoutMs: 30_000 }),
        202,
        "POST upload",
      );
      const patched = expectStatus(
        await call(location(opened, target.url, "POST upload"), {
          method: "PATCH",
          headers: { "Content-Type": "application/octet-stream" },
          body: tap.tap(pattern.chunks()),
          agent,
          timeoutMs,
        }),
        202,
        "PATCH layer",
      );
      const digest = tap.digest();
      const put = withQuery(location(patched, target.url, "PATCH layer"), "digest", digest);
      expectStatus(await call(put, { method: "PUT", agent, timeoutMs: 120_000 }), 201, "PUT ?digest=");
      const push = { ...throughput(tap.bytes, started), cpu: stopMeter() };
      const pushRss = sampler.stop();
      stopped = true;
      return { push, digest, idleRssMiB, pushRss };
    } finally {
      if (!stopped) sampler.stop();
    }
  } finally {
    agent.destroy();
  }
}

/**
 * GET the blob back, streaming, and check its length and digest. A 307 is followed once, as
 * clients do (to loopback only): the time then includes the redirect.
 */
export async function pullLargeLayer(
  target: Target,
  repository: string,
  digest: string,
  size: number,
  timeoutMs: number,
  storagePid?: number,
): Promise<LargePull> {
  const sampler = new RssSampler(target.pid, 100).start();
  let stopped = false;
  try {
    const stopMeter = meterCpu(storagePid, target.pid);
    const started = now();
    let res = await download(`${target.url}/v2/${repository}/blobs/${digest}`, timeoutMs);
    const redirected = res.status === 307;
    if (redirected) {
      await res.body.dump();
      const to = res.headers.location;
      if (!to) throw new Error("GET blob: 307 without Location");
      res = await download(new URL(to, target.url), timeoutMs);
    }
    if (res.status !== 200) {
      await res.body.dump();
      throw new Error(`GET blob: expected 200, got ${res.status}`);
    }
    const read = await drainAndHash(res.body, size);
    const pull = { ...throughput(read.bytes, started), cpu: stopMeter() };
    const pullRss = sampler.stop();
    stopped = true;
    if (read.bytes !== size || read.digest !== digest) {
      throw new Error(`GET blob: got ${read.bytes} bytes with ${read.digest}, expected ${size} bytes with ${digest}`);
    }
    return { pull, pullRss, redirected };
  } finally {
    if (!stopped) sampler.stop();
  }
}
