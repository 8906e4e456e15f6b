import { authHeaders } from "./credentials.js";
import { runLoad } from "./load.js";
import { MANIFEST_ACCEPT } from "./small-image.js";
import type { Target } from "./target.js";

export interface MetricsOverhead {
  /** Manifest GETs by tag per second, each round alternating: metrics off, then on. */
  offRequestsPerSecond: number[];
  onRequestsPerSecond: number[];
  /** Sum on / sum off: 0.95 means metrics cost 5 % of the throughput. */
  ratio: number;
  /** Series in the scraped /metrics afterwards (proves the server measured was recording). */
  scrapedSeries: number;
}

/**
 * The cost of STOWAGE_METRICS: the same manifest GET by tag, against two servers on the same
 * storage (one with metrics off, one with them on), in alternating rounds so drifts in the
 * machine's load fall on both sides.
 */
export async function measureMetricsOverhead(
  off: Target,
  on: Target,
  path: string,
  options: { connections: number; seconds: number; rounds: number },
): Promise<MetricsOverhead> {
  const result: MetricsOverhead = { offRequestsPerSecond: [], onRequestsPerSecond: [], ratio: NaN, scrapedSeries: 0 };
  const headersFor = async (target: Target) => ({
    Accept: MANIFEST_ACCEPT,
    ...(await authHeaders(`${target.url}${path}`)),
  });
  const offHeaders = await headersFor(off);
  const onHeaders = await headersFor(on);
  const load = (target: Target, headers: Record<string, string>) =>
    runLoad({
      url: `${target.url}${path}`,
      method: "GET",
      headers,
      connections: options.connections,
      seconds: options.seconds,
    });
  for (let round = 0; round < options.rounds; round++) {
    result.offRequestsPerSecond.push((await load(off, offHeaders)).requestsPerSecond);
    result.onRequestsPerSecond.push((await load(on, onHeaders)).requestsPerSecond);
  }
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  result.ratio = sum(result.onRequestsPerSecond) / sum(result.offRequestsPerSecond);
  const scraped = await fetch(`${on.url}/metrics`);
  if (scraped.status !== 200) throw new Error(`GET /metrics answered ${scraped.status}`);
  result.scrapedSeries = (await scraped.text()).split("\n").filter((line) => line && !line.startsWith("#")).length;
  return result;
}
