/**
 * `node dist/bench/profile-summary.js FILE.cpuprofile [N]`: where a server's CPU went, from a
 * profile written by `BENCH_CPU_PROF_DIR=DIR npm run bench` (node --cpu-prof). Prints self
 * time by function and by package/file, top N (default 25). Not run by `npm run bench`.
 */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** node_modules/<package> (or @scope/package), node:internal, or the project file. */
function area(url: string): string {
  if (!url) return "(native / VM)";
  if (url.startsWith("node:")) return url.split("/").slice(0, 2).join("/");
  const modules = url.lastIndexOf("/node_modules/");
  if (modules >= 0) {
    const parts = url.slice(modules + "/node_modules/".length).split("/");
    return `npm:${parts[0]?.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]}`;
  }
  const dist = url.indexOf("/dist/");
  return dist >= 0 ? url.slice(dist + 1) : url;
}

function summarise(profile: Profile, top: number): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map<string, number>();
  const byArea = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url ? `${area(url)}:${lineNumber + 1}` : "";
    const key = `${functionName || "(anonymous)"} ${where}`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    byArea.set(area(url), (byArea.get(area(url)) ?? 0) + us);
  }
  const idle = [...selfUs]
    .filter(([id]) => byId.get(id)?.callFrame.functionName === "(idle)")
    .reduce((a, [, us]) => a + us, 0);
  const table = (title: string, entries: Map<string, number>) => {
    const rows = [...entries].sort((a, b) => b[1] - a[1]).slice(0, top);
    return [
      title,
      ...rows.map(
        ([key, us]) =>
          `${(us / 1000).toFixed(0).padStart(8)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%  ${key}`,
      ),
    ].join("\n");
  };
  return [
    `profile: ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s wall, ${(total / 1e6).toFixed(1)} s sampled, ` +
      `${(idle / 1e6).toFixed(1)} s idle, busy ${((total - idle) / 1e6).toFixed(1)} s`,
    table("\nself time by package / file:", byArea),
    table("\nself time by function:", byFunction),
  ].join("\n");
}

const [file, n] = process.argv.slice(2);
if (!file) {
  console.error("usage: node dist/bench/profile-summary.js FILE.cpuprofile [TOP]");
  process.exit(2);
}
console.log(summarise(JSON.parse(readFileSync(file, "utf8")) as Profile, Number(n ?? 25)));
