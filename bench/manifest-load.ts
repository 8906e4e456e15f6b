import { authHeaders } from "./credentials.js";
import { call, expectStatus } from "./http.js";
import { runLoad, type LoadResult } from "./load.js";
import { MANIFEST_ACCEPT } from "./small-image.js";
import type { Target } from "./target.js";
import { runWrk, type WrkResult } from "./wrk.js";

export interface ManifestLoad {
  getByTag: LoadResult;
  getByDigest: LoadResult;
  headByTag: LoadResult;
  /** The same GETs with wrk, when installed. */
  wrkGetByTag?: WrkResult;
  wrkGetByDigest?: WrkResult;
}

/**
 * Manifest reads under load, as a cluster of nodes pulling one image makes them: GET by tag,
 * GET by digest and HEAD by tag, each for `seconds` over `connections` keep-alive sockets.
 */
export async function measureManifestLoad(
  target: Target,
  repository: string,
  tag: string,
  digest: string,
  options: { connections: number; seconds: number; wrk: string | undefined },
): Promise<ManifestLoad> {
  const byTag = `${target.url}/v2/${repository}/manifests/${tag}`;
  // the load generators send fixed headers: one token for the whole run
  const headers = { Accept: MANIFEST_ACCEPT, ...(await authHeaders(byTag)) };
  const byDigest = `${target.url}/v2/${repository}/manifests/${digest}`;
  for (const url of [byTag, byDigest]) {
    const reply = expectStatus(await call(url, { method: "GET", headers, timeoutMs: 10_000 }), 200, `GET ${url}`);
    if (reply.headers["docker-content-digest"] !== digest) throw new Error(`GET ${url}: wrong Docker-Content-Digest`);
  }
  const load = (url: string, method: "GET" | "HEAD") =>
    runLoad({ url, method, headers, connections: options.connections, seconds: options.seconds });
  const result: ManifestLoad = {
    getByTag: await load(byTag, "GET"),
    getByDigest: await load(byDigest, "GET"),
    headByTag: await load(byTag, "HEAD"),
  };
  if (options.wrk) {
    result.wrkGetByTag = await runWrk(options.wrk, byTag, headers, options.connections, options.seconds);
    result.wrkGetByDigest = await runWrk(options.wrk, byDigest, headers, options.connections, options.seconds);
  }
  return result;
}
