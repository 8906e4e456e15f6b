import { writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { freePort } from "../shared/server/azurite.js";
import { startChild } from "./child-process.js";
import { executableVersion, findExecutable } from "./executables.js";
import { waitUntilServing, type Target } from "./target.js";

/**
 * The reference: CNCF distribution 2.8 (Debian package docker-registry), with filesystem
 * storage in a temp dir, no auth, no access log, on loopback. Only used when installed: the
 * benchmark never installs anything.
 */
const BINARY = "docker-registry";

export function findDistribution(): string | undefined {
  const dirs = (process.env.PATH ?? "").split(delimiter).filter(Boolean);
  return findExecutable([...dirs, "/usr/bin", "/usr/local/bin", "/usr/sbin"].map((dir) => join(dir, BINARY)));
}

export function distributionVersion(binary: string): Promise<string> {
  return executableVersion(binary, "unknown version");
}

export interface DistributionOptions {
  binary: string;
  /** Working directory: the config file and the storage root go in it. */
  dir: string;
  /** Listen port; a free one when omitted. */
  port?: number;
}

export async function startDistribution(options: DistributionOptions, name = "distribution"): Promise<Target> {
  const port = options.port ?? (await freePort("127.0.0.1"));
  const config = join(options.dir, "config.yml");
  writeFileSync(
    config,
    [
      "version: 0.1",
      "log:",
      "  level: error",
      "  accesslog:",
      "    disabled: true",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${join(options.dir, "storage")}`,
      "  cache:",
      "    blobdescriptor: inmemory",
      "  delete:",
      "    enabled: true",
      "http:",
      `  addr: 127.0.0.1:${port}`,
      "",
    ].join("\n"),
  );
  const child = await startChild(name, options.binary, ["serve", config], {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    const startMs = await waitUntilServing(child, url, name);
    return { name: "distribution", url, pid: child.pid, startMs, child };
  } catch (error) {
    await child.stop();
    throw error;
  }
}
