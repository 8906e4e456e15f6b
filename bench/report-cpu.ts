import { totalCpuMs, type CpuSplit, type MeteredThroughput } from "./cpu-split.js";
import type { BenchResults, TargetResults } from "./results.js";

const ms = (value: number) => Math.round(value).toLocaleString("en-US");

function splitText(cpu: CpuSplit): string {
  const parts = [cpu.clientMs, cpu.storageMs, cpu.serverMs].filter((v): v is number => v !== undefined);
  const busy = totalCpuMs(cpu) / cpu.wallMs;
  return `${parts.map(ms).join(" + ")} = ${ms(totalCpuMs(cpu))} ms in ${ms(cpu.wallMs)} ms, ${busy.toFixed(2)} cores busy`;
}

/**
 * The most a server between client and storage could spend and still reach `factor` x raw's
 * rate: the cores' CPU over the target's time, less what raw's client and Azurite took for the
 * same bytes. An upper bound: it assumes every core free for this run and no extra work for
 * the client or Azurite behind a relay.
 */
function serverBudgetMs(raw: CpuSplit, factor: number, cores: number): number {
  return cores * (raw.wallMs / factor) - totalCpuMs(raw);
}

/**
 * Where the CPU of the large transfers went, and what the streamed targets leave a server on
 * this machine: client, Azurite and server share its cores, so a relayed transfer is bound by
 * their summed CPU (see cpu-split.ts).
 */
export function cpuLines(results: BenchResults): string[] {
  const cores = results.meta.cpus;
  const raw = results.azurite.ceiling;
  const dist = "skipped" in results.distribution ? undefined : results.distribution;
  const lines: string[] = [];
  const measures: {
    name: string;
    factor: number;
    raw?: MeteredThroughput;
    of: (r?: TargetResults) => MeteredThroughput | undefined;
  }[] = [
    { name: "push", factor: 0.95, raw: raw?.upload, of: (r) => r?.largePush?.push },
    { name: "pull", factor: 0.9, raw: raw?.downloadSameClient, of: (r) => r?.largePull?.pull },
  ];
  for (const { name, factor, raw: rawTransfer, of } of measures) {
    const rows: [string, CpuSplit | undefined][] = [
      ["Azurite raw", rawTransfer?.cpu],
      ["Stowage", of(results.stowage)?.cpu],
      ["relay control", of(results.relay)?.cpu],
      ["distribution", of(dist)?.cpu],
    ];
    const present = rows.filter((row): row is [string, CpuSplit] => row[1] !== undefined);
    if (present.length === 0) continue;
    lines.push(`  ${name}:`);
    for (const [who, cpu] of present) lines.push(`    ${who.padEnd(13)} ${splitText(cpu)}`);
    const base = rawTransfer?.cpu;
    if (base) {
      lines.push(
        `    at the target (${factor}x raw, ${ms(base.wallMs / factor)} ms) ${cores} cores hold ` +
          `${ms((cores * base.wallMs) / factor)} ms of CPU; raw's client and Azurite took ${ms(totalCpuMs(base))}, ` +
          `leaving a server at most ${ms(serverBudgetMs(base, factor, cores))} ms`,
      );
    }
  }
  if (lines.length === 0) return [];
  return [
    `CPU of the large transfers, fastest round (ms: client + Azurite + server; distribution: client + server; ${cores} cores shared by all):`,
    ...lines,
  ];
}
