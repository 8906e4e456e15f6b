/** Timing helpers. MB/s means 10^6 bytes per second throughout. */
import { loadavg } from "node:os";

/** The 1, 5 and 15 minute load averages, as `uptime` prints them. */
export function loadAverages(): string {
  return loadavg()
    .map((v) => v.toFixed(2))
    .join(", ");
}

export function now(): bigint {
  return process.hrtime.bigint();
}

export function msSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export interface Throughput {
  bytes: number;
  seconds: number;
  /** 10^6 bytes per second. */
  mbPerSecond: number;
}

export function throughput(bytes: number, start: bigint): Throughput {
  const seconds = msSince(start) / 1000;
  return { bytes, seconds, mbPerSecond: bytes / 1e6 / seconds };
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
