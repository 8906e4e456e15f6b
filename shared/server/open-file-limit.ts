import { readFileSync } from "node:fs";

/** Descriptors kept free for storage connections, Azurite's pipes, logs and key files. */
const RESERVE = 256;

/**
 * The connection limit that fits the process's open-file limit (Linux: /proc/self/limits),
 * so a flood of connections is refused before the process runs out of descriptors and
 * can no longer reach its own storage. Elsewhere the configured limit stands.
 */
export function connectionsWithinFileLimit(configured: number): number {
  let soft: number;
  try {
    const line = readFileSync("/proc/self/limits", "utf8")
      .split("\n")
      .find((l) => l.startsWith("Max open files"));
    soft = Number(line?.split(/\s{2,}/)[1]);
  } catch {
    return configured;
  }
  if (!Number.isFinite(soft)) return configured; // "unlimited"
  return Math.max(16, Math.min(configured, soft - RESERVE));
}
