import { statSync } from "node:fs";
import { join } from "node:path";
import { startChild } from "./child-process.js";
import { executableVersion, findExecutable } from "./executables.js";
import { accountFor } from "./credentials.js";
import { removeTempDir, tempDir } from "./lifecycle.js";
import type { OciLayout } from "./oci-layout.js";
import type { Target } from "./target.js";
import { msSince, now } from "./timing.js";

/** skopeo, a real client (containers/image, as podman and buildah), when installed. */
const CANDIDATES = ["/usr/bin/skopeo", "/usr/local/bin/skopeo"];

export function findSkopeo(): string | undefined {
  return findExecutable(CANDIDATES);
}

export function skopeoVersion(binary: string): Promise<string> {
  return executableVersion(binary, "skopeo, unknown version");
}

export interface SkopeoCopies {
  /** Seconds of each `skopeo copy` process, spawn to exit. */
  pushSeconds: number[];
  pullSeconds: number[];
  bestPushSeconds: number;
  bestPullSeconds: number;
  layerBytes: number;
}

/**
 * One `skopeo copy`, timed from spawn to exit (so it includes skopeo's start, the ping, the
 * token and the manifest, as a user waits for them); killed by PID if it overruns.
 */
async function copy(binary: string, args: string[], timeoutMs: number): Promise<number> {
  const home = tempDir("skopeo-home"); // no auth file or config from the machine's user
  try {
    const started = now();
    const child = await startChild("skopeo", binary, ["--insecure-policy", "copy", "--quiet", ...args], {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: home,
      XDG_RUNTIME_DIR: home,
      TMPDIR: home,
    });
    const timer = setTimeout(() => void child.stop(1000), timeoutMs);
    const code = await child.exited;
    clearTimeout(timer);
    const seconds = msSince(started) / 1000;
    if (code !== 0) throw new Error(`skopeo ${args.join(" ")} exited with ${code}:\n${child.output()}`);
    return seconds;
  } finally {
    removeTempDir(home);
  }
}

/** `--src-creds`/`--dest-creds` for a target with an account (Stowage); none for distribution. */
function creds(target: Target, side: "src" | "dest"): string[] {
  const account = accountFor(target.url);
  return account ? [`--${side}-creds`, `${account.user}:${account.password}`] : [];
}

/**
 * The same one-layer image pushed with skopeo into each target and pulled back into a `dir:`,
 * alternating targets, once per layout: each round pushes a different layer into a new
 * repository, so neither the registry nor skopeo's blob-info cache (machine-wide when root)
 * can skip the upload. Best of the rounds is reported.
 */
export async function measureSkopeo(
  binary: string,
  targets: Target[],
  repository: string,
  layouts: OciLayout[],
  timeoutMs: number,
): Promise<Map<Target, SkopeoCopies>> {
  const runs = new Map(targets.map((t) => [t, { push: [] as number[], pull: [] as number[] }]));
  for (const [round, layout] of layouts.entries()) {
    const remote = (target: Target) => `docker://${new URL(target.url).host}/${repository}-${round}:${layout.tag}`;
    for (const target of targets) {
      const push = ["--dest-tls-verify=false", ...creds(target, "dest"), layout.reference, remote(target)];
      runs.get(target)?.push.push(await copy(binary, push, timeoutMs));
    }
    for (const target of targets) {
      const out = tempDir("skopeo-pull");
      try {
        const pull = ["--src-tls-verify=false", ...creds(target, "src"), remote(target), `dir:${out}`];
        const seconds = await copy(binary, pull, timeoutMs);
        const pulled = statSync(join(out, layout.layerDigest.slice("sha256:".length)), { throwIfNoEntry: false });
        if (pulled?.size !== layout.layerBytes) {
          throw new Error(
            `${target.name}: skopeo pulled ${pulled?.size ?? "no"} layer bytes, pushed ${layout.layerBytes}`,
          );
        }
        runs.get(target)?.pull.push(seconds);
      } finally {
        removeTempDir(out);
      }
    }
  }
  const layerBytes = layouts[0]?.layerBytes ?? 0;
  return new Map(
    [...runs].map(([target, r]) => [
      target,
      {
        pushSeconds: r.push,
        pullSeconds: r.pull,
        bestPushSeconds: Math.min(...r.push),
        bestPullSeconds: Math.min(...r.pull),
        layerBytes,
      },
    ]),
  );
}
