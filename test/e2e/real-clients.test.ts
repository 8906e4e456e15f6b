import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { startAzurite, type AzuriteInstance } from "../../shared/server/azurite.js";
import { ClientSandbox } from "./client-sandbox.js";
import { OCI_MANIFEST, sha256, writeOciArchive } from "./oci-image.js";
import { requireBinaries, run } from "./processes.js";
import { assertNoSecrets } from "../helpers/secret-scan.js";
import { startServerProcess, tokenPostsIn, type ServerProcess } from "./server-process.js";

/** The compiled admin CLI (dist/test/e2e -> dist/shared/cli). */
const CLI = fileURLToPath(new URL("../../shared/cli/main.js", import.meta.url));

/**
 * End to end: the Node server process over Azurite, driven by the real clients installed on
 * the machine (skopeo, podman, Docker, containerd). Every daemon is private: its own root,
 * state, socket and config in a temp directory, stopped by PID when the test ends.
 *
 * A missing client binary skips its test, except under CI (CI=true), where it fails:
 * .ci/run installs all of them, so a missing one there is a broken CI image.
 */
const TEST_MS = 10 * 60_000;

describe("real clients against the Node server process", { timeout: 4 * TEST_MS }, () => {
  let azurite: AzuriteInstance | undefined;
  let server: ServerProcess | undefined;
  let sandbox: ClientSandbox | undefined;
  let work = "";

  before(async () => {
    sandbox = await ClientSandbox.create();
    work = sandbox.work;
    azurite = await startAzurite();
    server = await startServerProcess({ connectionString: azurite.connectionString });
  });

  after(async () => {
    // E2E_VERBOSE=1 shows every request the server saw (the access log)
    if (process.env.E2E_VERBOSE && server) console.log(`--- server output ---\n${server.output()}`);
    await sandbox?.close();
    await server?.stop();
    await azurite?.stop();
  });

  const registry = () => {
    if (!server) throw new Error("server not started");
    return server;
  };
  const clients = () => {
    if (!sandbox) throw new Error("sandbox not created");
    return sandbox;
  };

  /** The digest the registry answers for a tag (HEAD, as clients resolve it). */
  async function tagDigest(repository: string, tag: string): Promise<string | null> {
    const token = await registry().token([`repository:${repository}:pull`]);
    const response = await fetch(`${registry().url}/v2/${repository}/manifests/${tag}`, {
      method: "HEAD",
      headers: {
        Authorization: `Bearer ${token}`,
        Accept: [
          OCI_MANIFEST,
          "application/vnd.oci.image.index.v1+json",
          "application/vnd.docker.distribution.manifest.v2+json",
          "application/vnd.docker.distribution.manifest.list.v2+json",
        ].join(", "),
      },
    });
    assert.equal(response.status, 200, `HEAD /v2/${repository}/manifests/${tag}`);
    return response.headers.get("docker-content-digest");
  }

  /** Runs a test body; on failure, appends the end of the server's access log. */
  async function withServerLog(fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (error) {
      if (error instanceof Error)
        error.message += `\n--- server output (tail) ---\n${registry().output().slice(-6000)}`;
      throw error;
    }
  }

  test("skopeo: copy an OCI layout in, copy it back out byte for byte", { timeout: TEST_MS }, async (t) => {
    if (!requireBinaries(t, "skopeo")) return;
    await withServerLog(async () => {
      const { image, exec } = await clients().clientSetup("skopeo");
      const host = registry().host;
      const policy = ["--policy", clients().policy];
      const password = registry().adminPassword;
      // wrong credentials are refused at login; right ones are stored in the auth file
      await assert.rejects(
        exec("skopeo", ["login", "--tls-verify=false", "-u", "admin", "-p", "wrong-password", host]),
      );
      await exec("skopeo", ["login", "--tls-verify=false", "-u", "admin", "-p", password, host]);
      await exec("skopeo", [
        "copy",
        ...policy,
        "--dest-tls-verify=false",
        `oci:${image.dir}:${image.tag}`,
        `docker://${host}/e2e/skopeo:1`,
      ]);
      assert.equal(
        await tagDigest("e2e/skopeo", "1"),
        image.manifestDigest,
        "the registry's digest for the pushed tag",
      );

      const out = join(work, "skopeo-pulled");
      await exec("skopeo", [
        "copy",
        ...policy,
        "--src-tls-verify=false",
        `docker://${host}/e2e/skopeo:1`,
        `dir:${out}`,
      ]);
      const manifest = await readFile(join(out, "manifest.json"));
      assert.equal(sha256(manifest), image.manifestDigest, "pulled manifest digest");
      assert.ok(manifest.equals(image.manifest), "pulled manifest bytes");
      const wanted = [image.config, ...image.layers];
      for (const descriptor of wanted) {
        const file = join(out, descriptor.digest.slice("sha256:".length));
        assert.ok(existsSync(file), `blob ${descriptor.digest} was not pulled`);
        const bytes = await readFile(file);
        assert.equal(sha256(bytes), descriptor.digest, `sha256 of pulled blob ${descriptor.digest}`);
        assert.ok(
          bytes.equals(image.blobs.get(descriptor.digest) as Buffer),
          `bytes of pulled blob ${descriptor.digest}`,
        );
      }
      const files = (await readdir(out)).filter((f) => f !== "version" && f !== "manifest.json").sort();
      assert.deepEqual(files, wanted.map((d) => d.digest.slice("sha256:".length)).sort(), "exactly the image's blobs");

      // without credentials (or with wrong ones) the same pull is refused
      const anonymous = await exec("skopeo", [
        "inspect",
        "--raw",
        "--no-creds",
        "--tls-verify=false",
        `docker://${host}/e2e/skopeo:1`,
      ]).then(
        () => "pulled",
        (error: Error) => error.message,
      );
      assert.match(anonymous, /unauthorized|authentication required/i, "skopeo without credentials must be refused");
      await assert.rejects(
        exec("skopeo", [
          "copy",
          ...policy,
          "--src-tls-verify=false",
          "--src-creds",
          "admin:wrong-password",
          `docker://${host}/e2e/skopeo:1`,
          `dir:${out}-wrong`,
        ]),
        "skopeo with a wrong password must be refused",
      );

      // registry to registry within the server: the blobs may be mounted across repositories
      await exec("skopeo", [
        "copy",
        ...policy,
        "--src-tls-verify=false",
        "--dest-tls-verify=false",
        `docker://${host}/e2e/skopeo:1`,
        `docker://${host}/e2e/skopeo-copy:2`,
      ]);
      assert.equal(await tagDigest("e2e/skopeo-copy", "2"), image.manifestDigest);
    });
  });

  test("podman: load, push, rmi, pull", { timeout: TEST_MS }, async (t) => {
    if (!requireBinaries(t, "podman", "skopeo")) return;
    await withServerLog(async () => {
      const { image, exec } = await clients().clientSetup("podman");
      const ref = `${registry().host}/e2e/podman:1`;
      const podman = clients().podman(exec, "podman");
      const archive = await clients().dockerArchive(exec, image, ref, "podman-image.tar");
      await podman(["load", "-q", "-i", archive]);
      await podman(["login", "--tls-verify=false", "-u", "admin", "-p", registry().adminPassword, registry().host]);
      const digestFile = join(work, "podman-pushed.digest");
      await podman(["push", "--tls-verify=false", "--digestfile", digestFile, ref]);
      const pushed = (await readFile(digestFile, "utf8")).trim();
      assert.match(pushed, /^sha256:[0-9a-f]{64}$/, "podman's digest file");
      assert.equal(await tagDigest("e2e/podman", "1"), pushed, "the registry's digest for the pushed tag");

      await podman(["rmi", "-f", ref]);
      await assert.rejects(podman(["image", "exists", ref]), "the image is gone before the pull");
      await podman(["pull", "-q", "--tls-verify=false", ref]);
      const pulled = (await podman(["image", "inspect", "--format", "{{.Digest}}", ref])).stdout.trim();
      assert.equal(pulled, pushed, "pulled manifest digest equals pushed");
    });
  });

  test("docker: load, push, rmi, pull through a private dockerd", { timeout: TEST_MS }, async (t) => {
    if (!requireBinaries(t, "dockerd", "docker", "containerd", "ctr", "skopeo")) return;
    await withServerLog(async () => {
      const { image, exec } = await clients().clientSetup("docker");
      const ref = `${registry().host}/e2e/docker:1`;
      const daemons = await clients().startDockerd("docker");
      try {
        const docker = (args: string[]) => exec("docker", args, daemons.env);

        const archive = await clients().dockerArchive(exec, image, ref, "docker-image.tar");
        await docker(["load", "-i", archive]);
        // docker login: GET /token with offline_token; the daemon then uses the refresh token (POST)
        await docker(["login", "-u", "admin", "-p", registry().adminPassword, registry().host]);
        const push = await docker(["push", ref]);
        const pushed = /digest: (sha256:[0-9a-f]{64})/.exec(push.stdout)?.[1];
        assert.ok(pushed, `no digest in docker push output:\n${push.stdout}`);
        assert.equal(await tagDigest("e2e/docker", "1"), pushed, "the registry's digest for the pushed tag");

        await docker(["rmi", ref]);
        await assert.rejects(docker(["image", "inspect", ref]), "the image is gone before the pull");
        const pull = await docker(["pull", ref]);
        const pulled = /Digest: (sha256:[0-9a-f]{64})/.exec(pull.stdout)?.[1];
        assert.equal(pulled, pushed, `pulled manifest digest equals pushed; docker pull said:\n${pull.stdout}`);
        const repoDigests = JSON.parse(
          (await docker(["image", "inspect", "--format", "{{json .RepoDigests}}", ref])).stdout,
        ) as string[];
        assert.ok(
          repoDigests.includes(`${registry().host}/e2e/docker@${pushed}`),
          `RepoDigests: ${repoDigests.join(", ")}`,
        );

        // logged out, the same pull is refused
        await docker(["logout", registry().host]);
        await docker(["rmi", ref]);
        const anonymous = await docker(["pull", ref]).then(
          () => "pulled",
          (error: Error) => error.message,
        );
        assert.match(
          anonymous,
          /unauthorized|authentication required|denied/i,
          "docker without credentials must be refused",
        );
      } catch (error) {
        if (error instanceof Error) error.message += `\n--- dockerd log (tail) ---\n${daemons.dockerd.log()}`;
        throw error;
      } finally {
        await daemons.stop();
      }
    });
  });

  test("containerd: ctr import, push, rm, pull", { timeout: TEST_MS }, async (t) => {
    if (!requireBinaries(t, "containerd", "ctr")) return;
    await withServerLog(async () => {
      const { image, exec } = await clients().clientSetup("ctr");
      const host = registry().host;
      const ref = `${host}/e2e/ctr:1`;
      const { daemon, socket, root } = await clients().startContainerd("containerd");
      try {
        const ctr = (args: string[]) => exec("ctr", ["--address", socket, ...args]);
        const archive = join(work, "ctr-image.tar");
        await writeOciArchive(image, archive);
        await ctr(["images", "import", "--base-name", `${host}/e2e/ctr`, archive]);
        const user = `admin:${registry().adminPassword}`;
        await assert.rejects(
          ctr(["images", "push", "--plain-http", ref]),
          "containerd without credentials must be refused",
        );
        await ctr(["images", "push", "--plain-http", "--user", user, ref]);
        assert.equal(await tagDigest("e2e/ctr", "1"), image.manifestDigest, "the registry's digest for the pushed tag");

        await ctr(["images", "rm", "--sync", ref]);
        const left = (await ctr(["content", "ls", "-q"])).stdout;
        for (const layer of image.layers)
          assert.ok(!left.includes(layer.digest), `layer ${layer.digest} still in the content store before the pull`);

        await ctr(["images", "pull", "--plain-http", "--user", user, ref]);
        const listing = (await ctr(["images", "ls"])).stdout;
        const line = listing.split("\n").find((l) => l.startsWith(`${ref} `));
        assert.ok(line, `pulled image not listed:\n${listing}`);
        const pulled = /sha256:[0-9a-f]{64}/.exec(line)?.[0];
        assert.equal(pulled, image.manifestDigest, "pulled manifest digest equals pushed");
        // containerd verifies digests on ingest; compare the stored bytes too
        const store = join(root, "io.containerd.content.v1.content", "blobs", "sha256");
        for (const descriptor of [image.config, ...image.layers]) {
          const bytes = await readFile(join(store, descriptor.digest.slice("sha256:".length)));
          assert.ok(
            bytes.equals(image.blobs.get(descriptor.digest) as Buffer),
            `bytes of pulled blob ${descriptor.digest}`,
          );
        }
      } catch (error) {
        if (error instanceof Error) error.message += `\n--- containerd log (tail) ---\n${daemon.log()}`;
        throw error;
      } finally {
        await daemon.stop();
      }
    });
  });
  /**
   * What a Kubernetes node does with an `imagePullSecrets` secret: kubelet reads the
   * `.dockerconfigjson`, takes the username and password for the registry host from `auth`,
   * and hands them to containerd, whose resolver logs in with the OAuth2 POST form. `ctr
   * --user` drives that same resolver. The secret holds a pull-only access token made with
   * the admin CLI.
   */
  test(
    "containerd: a .dockerconfigjson from a pull-only access token pulls, and cannot push",
    { timeout: TEST_MS },
    async (t) => {
      if (!requireBinaries(t, "containerd", "ctr")) return;
      await withServerLog(async () => {
        const { image, env: clientEnv, exec } = await clients().clientSetup("pull-secret");
        const server = registry();
        const host = server.host;
        const ref = `${host}/e2e/k8s/app:1`;

        // the operator: an access token that may only pull from e2e/k8s/*, printed once by the CLI
        const cliEnv = {
          ...clientEnv,
          STOWAGE_STORAGE_CONNECTION_STRING: azurite?.connectionString ?? "",
          STOWAGE_TABLE_PREFIX: server.tablePrefix,
        };
        const created = await run(
          process.execPath,
          [CLI, "token", "create", "k8s-nodes", "--allow", "e2e/k8s/*:pull", "--expires", "1d"],
          { env: cliEnv },
        );
        const secret = created.stdout.trim();
        assert.match(secret, /^stw_/);
        const dockerconfigjson = JSON.stringify({
          auths: {
            [host]: {
              username: "k8s-nodes",
              password: secret,
              auth: Buffer.from(`k8s-nodes:${secret}`).toString("base64"),
            },
          },
        });
        // as `kubectl create secret docker-registry` stores it, and as kubelet reads it back
        const kubernetesSecret = {
          type: "kubernetes.io/dockerconfigjson",
          data: { ".dockerconfigjson": Buffer.from(dockerconfigjson).toString("base64") },
        };
        const config = JSON.parse(Buffer.from(kubernetesSecret.data[".dockerconfigjson"], "base64").toString()) as {
          auths: Record<string, { auth: string }>;
        };
        const credentials = Buffer.from(config.auths[host]?.auth ?? "", "base64").toString();

        const { daemon, socket } = await clients().startContainerd("pull-secret-containerd");
        try {
          const ctr = (args: string[]) => exec("ctr", ["--address", socket, ...args]);
          const archive = join(work, "pull-secret-image.tar");
          await writeOciArchive(image, archive);
          await ctr(["images", "import", "--base-name", `${host}/e2e/k8s/app`, archive]);
          await ctr(["images", "push", "--plain-http", "--user", `admin:${server.adminPassword}`, ref]);
          await ctr(["images", "rm", "--sync", ref]);

          const tokenPostsBefore = tokenPostsIn(server.output());
          await ctr(["images", "pull", "--plain-http", "--user", credentials, ref]);
          const line = (await ctr(["images", "ls"])).stdout.split("\n").find((l) => l.startsWith(`${ref} `));
          assert.equal(
            /sha256:[0-9a-f]{64}/.exec(line ?? "")?.[0],
            image.manifestDigest,
            "pulled with the pull secret",
          );
          assert.ok(tokenPostsIn(server.output()) > tokenPostsBefore, "containerd logged in with the OAuth2 POST form");

          // the same credentials cannot push, not even to the repository they can pull
          await ctr(["images", "tag", ref, `${host}/e2e/k8s/app:2`]);
          await assert.rejects(
            ctr(["images", "push", "--plain-http", "--user", credentials, `${host}/e2e/k8s/app:2`]),
            "a pull-only token must not push",
          );
          const tag2 = await fetch(`${server.url}/v2/e2e/k8s/app/manifests/2`, {
            method: "HEAD",
            headers: {
              Authorization: `Bearer ${await server.token(["repository:e2e/k8s/app:pull"])}`,
              Accept: OCI_MANIFEST,
            },
          });
          assert.equal(tag2.status, 404, "nothing was pushed");
        } catch (error) {
          if (error instanceof Error) error.message += `\n--- containerd log (tail) ---\n${daemon.log()}`;
          throw error;
        } finally {
          await daemon.stop();
        }
      });
    },
  );

  test("the server's log of every client's logins, pushes and pulls holds no password, token or key", () => {
    assertNoSecrets(registry().output(), [registry().adminPassword]);
  });
});
