import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { run, startDaemon, waitForDaemon, type Daemon } from "./processes.js";

/**
 * A private containerd: its own root, state, socket and config under `dir`, no CRI plugin.
 * `dir` must be short: the socket path is limited to 108 bytes. `started` sees the daemon as
 * soon as it runs, so a caller can stop it even if waiting for it times out.
 */
export async function startContainerd(
  dir: string,
  env: Record<string, string>,
  options: { name?: string; startTimeoutMs?: number; started?: (daemon: Daemon) => void } = {},
): Promise<{ daemon: Daemon; socket: string }> {
  await mkdir(dir, { recursive: true });
  const socket = join(dir, "c.sock");
  const config = join(dir, "config.toml");
  await writeFile(
    config,
    [
      "version = 2",
      `root = "${join(dir, "root")}"`,
      `state = "${join(dir, "state")}"`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      "[grpc]",
      `  address = "${socket}"`,
      "[ttrpc]",
      `  address = "${socket}.ttrpc"`,
      "[debug]",
      '  address = ""',
      "[metrics]",
      '  address = ""',
      "[plugins]",
      '  [plugins."io.containerd.internal.v1.opt"]',
      `    path = "${join(dir, "opt")}"`,
      "",
    ].join("\n"),
  );
  const daemon = startDaemon(`containerd (${options.name ?? dir})`, "containerd", ["--config", config], {
    env,
    logFile: join(dir, "containerd.log"),
  });
  options.started?.(daemon);
  try {
    await waitForDaemon(
      daemon,
      () => run("ctr", ["--address", socket, "version"], { env, timeoutMs: 10_000 }),
      options.startTimeoutMs ?? 90_000,
    );
  } catch (error) {
    await daemon.stop(5_000);
    throw error;
  }
  return { daemon, socket };
}
