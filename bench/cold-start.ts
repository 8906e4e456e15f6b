import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { cpuMs, rssMiB } from "./rss.js";
import type { Target } from "./target.js";
import { median } from "./timing.js";

export interface ColdStart {
  /** Milliseconds from spawn to the first answered GET /v2/, one per start. */
  runsMs: number[];
  medianMs: number;
  minMs: number;
  /** RSS right after the first answer, MiB (median). */
  rssAfterStartMiB: number;
  /**
   * RSS of the last start after IDLE_MS without a request, MiB: what an idle server settles at
   * (V8's memory reducer runs some seconds after start-up's garbage).
   */
  rssIdleMiB: number;
  /**
   * CPU time (user + system) the process had used by its first answer, ms (median, 10 ms
   * ticks): steadier than wall time on a shared machine, where waiting for a core is not work.
   */
  cpuAfterStartMs: number;
  /** Stowage only: loading the Functions app's entry module (set by the run, not measured here). */
  functionsEntry?: FunctionsEntryImport;
}

/** How long the last start is left without a request before its idle RSS is read. */
const IDLE_MS = 12_000;

/**
 * Starts a fresh server process `count` times against storage that already exists (a restart,
 * a scale-out instance), timing spawn -> first answered GET /v2/, and stops each by PID.
 */
export async function measureColdStart(start: () => Promise<Target>, count: number): Promise<ColdStart> {
  const runsMs: number[] = [];
  const rss: number[] = [];
  const cpu: number[] = [];
  let rssIdleMiB = NaN;
  for (let i = 0; i < count; i++) {
    const target = await start();
    try {
      runsMs.push(target.startMs);
      rss.push(rssMiB(target.pid));
      cpu.push(cpuMs(target.pid));
      if (i === count - 1) {
        await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
        rssIdleMiB = rssMiB(target.pid);
      }
    } finally {
      await target.child.stop();
    }
  }
  return {
    runsMs,
    medianMs: median(runsMs),
    minMs: Math.min(...runsMs),
    rssAfterStartMiB: median(rss),
    rssIdleMiB,
    cpuAfterStartMs: median(cpu),
  };
}

export interface FunctionsEntryImport {
  /** package.json "main": what the Functions host loads. */
  entry: string;
  /** Milliseconds `await import(entry)` took in a fresh Node process, one per run. */
  runsMs: number[];
  medianMs: number;
  /** The same for every compiled dist/functions/*.js imported in turn (the entry before the bundle). */
  unbundledMedianMs: number;
}

const ROOT = new URL("../../", import.meta.url); // dist/bench/ -> the project

/**
 * How long the Functions host's load of the entry module takes: a fresh `node` imports it
 * `count` times, with a stand-in for the worker's core API (the worker provides
 * `@azure/functions-core` by intercepting require), so every function registers as in the host.
 * Storage is not touched: the app is built on the first invocation.
 */
export async function measureFunctionsEntryImport(count: number): Promise<FunctionsEntryImport> {
  const main = (JSON.parse(readFileSync(new URL("package.json", ROOT), "utf8")) as { main: string }).main;
  const entry = fileURLToPath(new URL(main, ROOT));
  const compiled = fileURLToPath(new URL("dist/functions/", ROOT));
  const unbundled = readdirSync(compiled)
    .filter((file) => file.endsWith(".js"))
    .map((file) => compiled + file);
  const runsMs: number[] = [];
  const unbundledMs: number[] = [];
  for (let i = 0; i < count; i++) {
    runsMs.push(await importMs([entry]));
    unbundledMs.push(await importMs(unbundled));
  }
  return { entry: main, runsMs, medianMs: median(runsMs), unbundledMedianMs: median(unbundledMs) };
}

const FAKE_WORKER = `
import Module from "node:module";
const disposable = { dispose() {} };
const core = { version: "3.10.0", hostVersion: "4.1000.0", setProgrammingModel() {}, log() {},
  registerHook: () => disposable, registerFunction: () => disposable };
const original = Module.prototype.require;
Module.prototype.require = function (id) { return id === "@azure/functions-core" ? core : original.call(this, id); };
`;

/** Milliseconds to import `files` in turn, in a new process. */
function importMs(files: string[]): Promise<number> {
  const script = `${FAKE_WORKER}
const started = performance.now();
for (const file of ${JSON.stringify(files)}) await import(file);
console.log("IMPORT_MS " + (performance.now() - started));`;
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--input-type=module", "-e", script],
      { timeout: 60_000, maxBuffer: 1 << 20 },
      (error, stdout, stderr) => {
        const ms = /IMPORT_MS ([\d.]+)/.exec(stdout)?.[1];
        if (error || ms === undefined)
          reject(new Error(`importing ${files.join(", ")} failed: ${error?.message ?? ""}\n${stderr}`));
        else resolve(Number(ms));
      },
    );
  });
}
