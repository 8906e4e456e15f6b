import { cpuMs } from "./rss.js";
import { msSince, now, type Throughput } from "./timing.js";

/**
 * Where the CPU of one large transfer went: the bench client (this process: it makes or reads
 * the layer and hashes it), storage (Azurite's process) and the server between them. On a
 * machine whose few cores all of them share, a transfer can go no faster than their summed CPU
 * allows; report-cpu.ts compares that sum with raw storage's.
 */
export interface CpuSplit {
  wallMs: number;
  clientMs: number;
  /** Azurite's process; absent where the server keeps the bytes itself (distribution's filesystem). */
  storageMs?: number;
  /** Absent for a transfer straight into storage. */
  serverMs?: number;
}

/** A throughput with the CPU split of the same interval. */
export type MeteredThroughput = Throughput & { cpu?: CpuSplit };

/** Starts metering; the returned function stops and reads the split. /proc counts 10 ms ticks. */
export function meterCpu(storagePid: number | undefined, serverPid?: number): () => CpuSplit {
  const read = (pid: number | undefined) => (pid === undefined ? undefined : cpuMs(pid));
  const started = now();
  const client = process.cpuUsage();
  const storage = read(storagePid);
  const server = read(serverPid);
  return () => {
    const used = process.cpuUsage(client);
    const split: CpuSplit = { wallMs: msSince(started), clientMs: (used.user + used.system) / 1000 };
    const storageNow = read(storagePid);
    if (storage !== undefined && storageNow !== undefined) split.storageMs = storageNow - storage;
    const serverNow = read(serverPid);
    if (server !== undefined && serverNow !== undefined) split.serverMs = serverNow - server;
    return split;
  };
}

/** Every process's CPU in the split, ms. */
export function totalCpuMs(split: CpuSplit): number {
  return split.clientMs + (split.storageMs ?? 0) + (split.serverMs ?? 0);
}
