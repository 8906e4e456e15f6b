import { readFileSync } from "node:fs";

export interface Memory {
  /** Resident set size now (VmRSS), KiB. */
  rssKiB: number;
  /** Kernel's high-water mark of the RSS since the process started (VmHWM), KiB. */
  hwmKiB: number;
}

/** Reads /proc/<pid>/status; undefined when the process is gone (or not on Linux). */
export function readMemory(pid: number): Memory | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return undefined;
  }
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rssKiB: field("VmRSS"), hwmKiB: field("VmHWM") };
}

export interface RssSummary {
  samples: number;
  /** Largest VmRSS seen while sampling, MiB. */
  peakMiB: number;
  /** VmHWM when sampling stopped (covers spikes between samples, but also anything before), MiB. */
  hwmMiB: number;
}

const MAX_SAMPLES = 200_000;

/** Samples a process's VmRSS every `intervalMs` until stopped (at most MAX_SAMPLES times). */
export class RssSampler {
  private timer: NodeJS.Timeout | undefined;
  private samples = 0;
  private peakKiB = 0;

  constructor(
    private readonly pid: number,
    private readonly intervalMs = 100,
  ) {}

  start(): this {
    this.sample();
    this.timer = setInterval(() => {
      if (this.samples >= MAX_SAMPLES) return this.halt();
      this.sample();
    }, this.intervalMs);
    return this;
  }

  stop(): RssSummary {
    this.sample();
    this.halt();
    const hwm = readMemory(this.pid)?.hwmKiB ?? NaN;
    return { samples: this.samples, peakMiB: this.peakKiB / 1024, hwmMiB: hwm / 1024 };
  }

  private sample(): void {
    const memory = readMemory(this.pid);
    if (!memory) return;
    this.samples++;
    if (memory.rssKiB > this.peakKiB) this.peakKiB = memory.rssKiB;
  }

  private halt(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

export function rssMiB(pid: number): number {
  return (readMemory(pid)?.rssKiB ?? NaN) / 1024;
}

/** CPU time (user + system) a process has used so far, ms, from /proc/<pid>/stat (NaN when gone). */
export function cpuMs(pid: number): number {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return NaN;
  }
  // fields after the command name (which may hold spaces): utime and stime are the 12th and 13th
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/** USER_HZ: 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS_PER_SECOND = 100;
