import { HashingTap, type Pattern } from "./pattern.js";
import { now, throughput, type Throughput } from "./timing.js";

/**
 * What the benchmark client alone can do: make the layer's bytes and SHA-256 them, sending
 * nothing. Every push above also pays this on the same two cores, so a push close to this
 * number is client-bound, not registry-bound.
 */
export function measureClientFloor(pattern: Pattern): Throughput {
  const tap = new HashingTap();
  const started = now();
  for (const chunk of tap.tap(pattern.chunks())) void chunk;
  tap.digest();
  return throughput(tap.bytes, started);
}
