import { execFile } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { promisify } from "node:util";

/** The first of `candidates` that is an executable file, or undefined (the bench installs nothing). */
export function findExecutable(candidates: string[]): string | undefined {
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** What `binary --version` prints, or `fallback` when it prints nothing usable in 5 s. */
export async function executableVersion(binary: string, fallback: string): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)(binary, ["--version"], { timeout: 5000 });
    return stdout.trim();
  } catch {
    return fallback;
  }
}
