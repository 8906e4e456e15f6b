import { mkdir, rm, writeFile } from "node:fs/promises";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startContainerd as startPrivateContainerd } from "./containerd.js";
import { writeOciLayout, type OciImage } from "./oci-image.js";
import { run, searchPath, startDaemon, waitForDaemon, type Daemon } from "./processes.js";

const COMMAND_MS = 180_000;
const DAEMON_START_MS = 90_000;

export type Exec = (command: string, args: string[], extraEnv?: Record<string, string>) => ReturnType<typeof run>;

/**
 * A private world for the real clients: a temporary directory with skopeo/podman
 * configuration (no system registries or policy surprises), and private containerd and
 * dockerd daemons (own root, state, socket, config) that are stopped by PID at the end.
 */
export class ClientSandbox {
  /** Every daemon started, newest first, so `close` stops dockerd before its containerd. */
  private readonly daemons: Daemon[] = [];

  private constructor(
    /** Short (Docker and containerd put unix sockets under it: 108-byte limit). */
    readonly work: string,
    /** The environment every client runs with. */
    readonly env: Record<string, string>,
    /** `--policy` for skopeo: accept anything (the tests check digests themselves). */
    readonly policy: string,
  ) {}

  static async create(): Promise<ClientSandbox> {
    const work = await mkdtemp(join(tmpdir(), "stw-e2e-"));
    // a private blob-info cache per client (see clientSetup) so earlier runs cannot turn uploads into mounts
    const home = join(work, "home");
    await mkdir(join(home, ".config", "containers"), { recursive: true });
    const policy = JSON.stringify({ default: [{ type: "insecureAcceptAnything" }] });
    await writeFile(join(work, "policy.json"), policy);
    await writeFile(join(home, ".config", "containers", "policy.json"), policy);
    await writeFile(join(work, "registries.conf"), "unqualified-search-registries = []\n");
    // podman refuses a REGISTRY_AUTH_FILE that does not exist
    await writeFile(join(work, "auth.json"), JSON.stringify({ auths: {} }));
    await writeFile(
      join(work, "storage.conf"),
      `[storage]\ndriver = "vfs"\nrunroot = "${join(work, "podman", "run")}"\ngraphroot = "${join(work, "podman", "root")}"\n`,
    );
    const env = {
      PATH: searchPath(),
      HOME: home,
      TMPDIR: join(work, "tmp"),
      XDG_CONFIG_HOME: join(home, ".config"),
      XDG_DATA_HOME: join(home, ".local", "share"),
      CONTAINERS_STORAGE_CONF: join(work, "storage.conf"),
      CONTAINERS_REGISTRIES_CONF: join(work, "registries.conf"),
      REGISTRY_AUTH_FILE: join(work, "auth.json"),
      DOCKER_CONFIG: join(work, "docker-config"),
    };
    await mkdir(env.TMPDIR, { recursive: true });
    return new ClientSandbox(work, env, join(work, "policy.json"));
  }

  /** Stops every daemon still running and removes the directory. */
  async close(): Promise<void> {
    for (const daemon of this.daemons) await daemon.stop(10_000);
    try {
      await rm(this.work, { recursive: true, force: true, maxRetries: 3 });
    } catch (error) {
      console.error(`could not remove ${this.work}: ${(error as Error).message}`);
    }
  }

  /**
   * A fresh random image for one client, so its push really uploads every blob, and the
   * client's own environment: a private blob-info cache (XDG_CACHE_HOME) and auth file.
   */
  async clientSetup(name: string): Promise<{ image: OciImage; env: Record<string, string>; exec: Exec }> {
    const image = await writeOciLayout(join(this.work, `${name}-image`), { tag: "1", layerKiB: 256, layerCount: 2 });
    const authFile = join(this.work, `${name}-auth.json`);
    await writeFile(authFile, JSON.stringify({ auths: {} }));
    const env = { ...this.env, XDG_CACHE_HOME: join(this.work, `${name}-cache`), REGISTRY_AUTH_FILE: authFile };
    const exec: Exec = (command, args, extraEnv = {}) =>
      run(command, args, { env: { ...env, ...extraEnv }, timeoutMs: COMMAND_MS });
    return { image, env, exec };
  }

  /** The test image as a docker-archive tagged `ref` (what `podman load` and `docker load` take). */
  async dockerArchive(exec: Exec, image: OciImage, ref: string, file: string): Promise<string> {
    const archive = join(this.work, file);
    const source = `oci:${image.dir}:${image.tag}`;
    await exec("skopeo", ["copy", "--policy", this.policy, source, `docker-archive:${archive}:${ref}`]);
    return archive;
  }

  /** podman with private storage under `<work>/<name>`, run through `exec`. */
  podman(exec: Exec, name: string): (args: string[]) => ReturnType<Exec> {
    const dir = join(this.work, name);
    return (args) =>
      exec("podman", [
        "--root",
        join(dir, "root"),
        "--runroot",
        join(dir, "run"),
        "--tmpdir",
        join(dir, "tmp"),
        "--storage-driver",
        "vfs",
        "--cgroup-manager",
        "cgroupfs",
        "--events-backend",
        "file",
        ...args,
      ]);
  }

  /** A private containerd (see containerd.ts) under `<work>/<name>`, stopped by `close`. */
  async startContainerd(name: string): Promise<{ daemon: Daemon; socket: string; root: string }> {
    const dir = join(this.work, name);
    const started = await startPrivateContainerd(dir, this.env, {
      name,
      startTimeoutMs: DAEMON_START_MS,
      started: (daemon) => this.daemons.unshift(daemon),
    });
    return { ...started, root: join(dir, "root") };
  }

  /**
   * A private dockerd on its own containerd (it would otherwise attach to a system one at
   * /run/containerd). `daemonEnv` adds to its environment (an HTTPS_PROXY, say).
   */
  async startDockerd(
    name: string,
    daemonEnv: Record<string, string> = {},
  ): Promise<{ dockerd: Daemon; containerd: Daemon; env: { DOCKER_HOST: string }; stop(): Promise<void> }> {
    const dir = join(this.work, name);
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, "daemon.json"), "{}");
    const containerd = await this.startContainerd(`${name}-containerd`);
    const socket = join(dir, "d.sock");
    const env = { DOCKER_HOST: `unix://${socket}` };
    const dockerd = startDaemon(
      "dockerd",
      "dockerd",
      [
        "--config-file",
        join(dir, "daemon.json"),
        "--containerd",
        containerd.socket,
        "--storage-driver=vfs",
        "--iptables=false",
        "--ip6tables=false",
        "--bridge=none",
        "--data-root",
        join(dir, "data"),
        "--exec-root",
        join(dir, "exec"),
        "--pidfile",
        join(dir, "dockerd.pid"),
        "--host",
        `unix://${socket}`,
      ],
      { env: { ...this.env, ...daemonEnv }, logFile: join(dir, "dockerd.log") },
    );
    this.daemons.unshift(dockerd);
    const stop = async () => {
      await dockerd.stop(30_000);
      await containerd.daemon.stop();
    };
    try {
      await waitForDaemon(
        dockerd,
        () => run("docker", ["version"], { env: { ...this.env, ...env }, timeoutMs: 10_000 }),
        DAEMON_START_MS,
      );
    } catch (error) {
      await stop();
      throw error;
    }
    return { dockerd, containerd: containerd.daemon, env, stop };
  }
}
