import type { BenchResults } from "./results.js";

const x = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || b === 0 ? "-" : `${(a / b).toFixed(2)}x`;

/**
 * The relay control's figures under the table: what the least a Node relay does with the same
 * bytes reaches on this machine in this run, beside Azurite raw and Stowage (relay-server.ts).
 */
export function relayLines(results: BenchResults): string[] {
  const relay = results.relay;
  if (!relay?.largePush && !relay?.largePull && !relay?.headByTag) return [];
  const s = results.stowage;
  const c = results.azurite.ceiling;
  const lines = [
    "relay control (relay-server.ts: the least a Node relay does; undici to storage; no auth, tables or limits):",
  ];
  const push = relay.largePush?.push.mbPerSecond;
  if (push !== undefined) {
    const stowage = s.largePush?.push.mbPerSecond;
    lines.push(
      `  push: ${push.toFixed(1)} MB/s, ${x(push, c?.upload.mbPerSecond)} Azurite raw; Stowage is ${x(stowage, push)} of it`,
    );
  }
  const pull = relay.largePull;
  if (pull) {
    const stowage = s.largePull;
    lines.push(
      `  pull: ${pull.pull.mbPerSecond.toFixed(1)} MB/s, ${x(pull.pull.mbPerSecond, c?.downloadSameClient.mbPerSecond)} ` +
        `Azurite raw; Stowage is ${x(stowage?.pull.mbPerSecond, pull.pull.mbPerSecond)} of it; ` +
        `CPU ${pull.pull.cpu?.serverMs ?? "-"} ms (Stowage ${stowage?.pull.cpu?.serverMs ?? "-"})`,
    );
  }
  const head = relay.headByTag?.requestsPerSecond;
  if (head !== undefined) {
    const d = "skipped" in results.distribution ? undefined : results.distribution.manifests?.headByTag;
    lines.push(
      `  manifest HEAD by tag (one point read, no token check): ${head.toFixed(0)} req/s, ` +
        `${x(head, d?.requestsPerSecond)} distribution; Stowage is ${x(s.manifests?.headByTag.requestsPerSecond, head)} of it`,
    );
  }
  for (const [name, error] of Object.entries(relay.errors)) lines.push(`  ERROR ${name}: ${error.split("\n")[0]}`);
  return lines;
}
