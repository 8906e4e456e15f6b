import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { copyFile, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { startAzurite, type AzuriteInstance } from "../../shared/server/azurite.js";
import { httpsRequest } from "../helpers/https-get.js";
import { createTestCa, type TestCa } from "../helpers/test-ca.js";
import { ClientSandbox } from "./client-sandbox.js";
import { startConnectProxy, type ConnectProxy } from "./connect-proxy.js";
import { OCI_MANIFEST, sha256, writeOciArchive } from "./oci-image.js";
import { requireBinaries, run } from "./processes.js";
import { startServerProcess, tokenPostsIn, type ServerProcess } from "./server-process.js";

/** The compiled admin CLI (dist/test/e2e -> dist/shared/cli). */
const CLI = fileURLToPath(new URL("../../shared/cli/main.js", import.meta.url));
const TEST_MS = 10 * 60_000;
/** What Go's crypto/x509 and OpenSSL say when a chain does not lead to a trusted root. */
const UNTRUSTED = /x509|certificate signed by unknown authority|certificate verify failed|unknown authority/i;

/**
 * The Node server as its own TLS front door (a PFX with a password, the format the Stack Hub
 * setup stores), and every real client trusting a locally made root CA: the server sends
 * its leaf and an intermediate, each client has only the root, so a pass proves the chain
 * verifies; the same clients given another CA must refuse to talk to it.
 */
describe("real clients over HTTPS, verifying the chain", { timeout: 4 * TEST_MS }, () => {
  let azurite: AzuriteInstance | undefined;
  let server: ServerProcess | undefined;
  let sandbox: ClientSandbox | undefined;
  let ca: TestCa;
  /** A name only the test proxy resolves (see connect-proxy.ts), and one whose trust is wrong. */
  const dnsName = `reg-${randomBytes(4).toString("hex")}.stowage.test`;
  const wrongName = `wrong-${randomBytes(4).toString("hex")}.stowage.test`;
  /** Directories holding `ca.crt` (the cert-dir layout skopeo, podman and Docker read). */
  let goodCerts = "";
  let wrongCerts = "";
  let wrongRoot = "";
  const dockerCertDirs: string[] = [];
  /** Tunnels to the registry for `dnsName` and for `wrongName`. */
  let proxy: ConnectProxy | undefined;
  let wrongProxy: ConnectProxy | undefined;

  before(async () => {
    sandbox = await ClientSandbox.create();
    ca = createTestCa(join(sandbox.work, "ca"));
    const leaf = ca.issue("registry", [dnsName, wrongName]);
    wrongRoot = createTestCa(join(sandbox.work, "wrong-ca"), "Someone else's").rootFile;
    goodCerts = join(sandbox.work, "certs-good");
    wrongCerts = join(sandbox.work, "certs-wrong");
    for (const [dir, root] of [
      [goodCerts, ca.rootFile],
      [wrongCerts, wrongRoot],
    ] as const) {
      await mkdir(dir, { recursive: true });
      await copyFile(root, join(dir, "ca.crt"));
    }
    proxy = await startConnectProxy(dnsName);
    wrongProxy = await startConnectProxy(wrongName);
    azurite = await startAzurite();
    server = await startServerProcess({
      connectionString: azurite.connectionString,
      env: { STOWAGE_TLS_PFX_FILE: leaf.pfxFile, STOWAGE_TLS_PFX_PASSWORD: leaf.pfxPassword },
      ca: ca.rootPem,
    });
  });

  after(async () => {
    if (process.env.E2E_VERBOSE && server) console.log(`--- server output ---\n${server.output()}`);
    await sandbox?.close();
    await server?.stop();
    await azurite?.stop();
    await proxy?.close();
    await wrongProxy?.close();
    for (const dir of dockerCertDirs) await rm(dir, { recursive: true, force: true });
  });

  const registry = () => {
    if (!server) throw new Error("server not started");
    return server;
  };
  const clients = () => {
    if (!sandbox) throw new Error("sandbox not created");
    return sandbox;
  };
  const tunnel = (which: ConnectProxy | undefined) => {
    if (!which) throw new Error("proxy not started");
    return which;
  };

  async function tagDigest(repository: string, tag: string): Promise<string | undefined> {
    const token = await registry().token([`repository:${repository}:pull`]);
    const answer = await httpsRequest(`${registry().url}/v2/${repository}/manifests/${tag}`, {
      method: "HEAD",
      headers: { Authorization: `Bearer ${token}`, Accept: OCI_MANIFEST },
      ca: ca.rootPem,
    });
    assert.equal(answer.status, 200, `HEAD /v2/${repository}/manifests/${tag}`);
    return answer.headers["docker-content-digest"] as string;
  }

  async function withServerLog(fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (error) {
      if (error instanceof Error)
        error.message += `\n--- server output (tail) ---\n${registry().output().slice(-6000)}`;
      throw error;
    }
  }

  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => "succeeded",
      (error: Error) => error.message,
    );

  test("the challenge sends clients to an https token realm", async () => {
    const answer = await httpsRequest(`${registry().url}/v2/`, { ca: ca.rootPem });
    assert.equal(answer.status, 401);
    assert.match(String(answer.headers["www-authenticate"]), new RegExp(`realm="https://${registry().host}/token"`));
  });

  test("skopeo: --dest-cert-dir push, --src-cert-dir pull; another CA is refused", { timeout: TEST_MS }, async (t) => {
    if (!requireBinaries(t, "skopeo")) return;
    await withServerLog(async () => {
      const { image, exec } = await clients().clientSetup("tls-skopeo");
      const host = registry().host;
      const creds = `admin:${registry().adminPassword}`;
      const policy = ["--policy", clients().policy];
      const ref = `docker://${host}/tls/skopeo:1`;
      const source = `oci:${image.dir}:${image.tag}`;

      const refused = await failure(
        exec("skopeo", ["copy", ...policy, "--dest-cert-dir", wrongCerts, "--dest-creds", creds, source, ref]),
      );
      assert.match(refused, UNTRUSTED, "a push trusting another CA must fail on the certificate");
      const noTrust = await failure(exec("skopeo", ["copy", ...policy, "--dest-creds", creds, source, ref]));
      assert.match(noTrust, UNTRUSTED, "the system roots do not know the test CA");

      await exec("skopeo", ["login", "--cert-dir", goodCerts, "-u", "admin", "-p", registry().adminPassword, host]);
      await exec("skopeo", ["copy", ...policy, "--dest-cert-dir", goodCerts, source, ref]);
      assert.equal(await tagDigest("tls/skopeo", "1"), image.manifestDigest);

      const out = join(clients().work, "tls-skopeo-pulled");
      await exec("skopeo", ["copy", ...policy, "--src-cert-dir", goodCerts, ref, `dir:${out}`]);
      assert.equal(sha256(await readFile(join(out, "manifest.json"))), image.manifestDigest, "pulled manifest");
      for (const layer of image.layers)
        assert.equal(sha256(await readFile(join(out, layer.digest.slice(7)))), layer.digest, "pulled layer bytes");
      const pullRefused = await failure(
        exec("skopeo", ["inspect", "--raw", "--cert-dir", wrongCerts, "--creds", creds, ref]),
      );
      assert.match(pullRefused, UNTRUSTED, "a pull trusting another CA must fail on the certificate");
    });
  });

  test("podman: --cert-dir login, push, pull; another CA is refused", { timeout: TEST_MS }, async (t) => {
    if (!requireBinaries(t, "podman", "skopeo")) return;
    await withServerLog(async () => {
      const { image, exec } = await clients().clientSetup("tls-podman");
      const host = registry().host;
      const ref = `${host}/tls/podman:1`;
      const podman = clients().podman(exec, "tls-podman");
      await podman(["load", "-q", "-i", await clients().dockerArchive(exec, image, ref, "tls-podman.tar")]);
      const login = ["login", "-u", "admin", "-p", registry().adminPassword, host];
      assert.match(
        await failure(podman([...login.slice(0, 1), "--cert-dir", wrongCerts, ...login.slice(1)])),
        UNTRUSTED,
      );
      await podman(["login", "--cert-dir", goodCerts, ...login.slice(1)]);
      assert.match(await failure(podman(["push", "--cert-dir", wrongCerts, ref])), UNTRUSTED);
      const digestFile = join(clients().work, "tls-podman.digest");
      await podman(["push", "--cert-dir", goodCerts, "--digestfile", digestFile, ref]);
      const pushed = (await readFile(digestFile, "utf8")).trim();
      assert.equal(await tagDigest("tls/podman", "1"), pushed);
      await podman(["rmi", "-f", ref]);
      await podman(["pull", "-q", "--cert-dir", goodCerts, ref]);
      assert.equal((await podman(["image", "inspect", "--format", "{{.Digest}}", ref])).stdout.trim(), pushed);
    });
  });

  /**
   * dockerd skips certificate checks for any registry in 127.0.0.0/8 (it calls loopback
   * insecure by default), so here the registry has a DNS name, as it has for users, reached
   * through a CONNECT proxy; the name's `certs.d/<name:port>/ca.crt` holds the root. A second
   * name whose `ca.crt` is another CA must be refused.
   */
  test("docker: certs.d/<host:port>/ca.crt push and pull; another CA is refused", { timeout: TEST_MS }, async (t) => {
    if (!requireBinaries(t, "dockerd", "docker", "containerd", "ctr", "skopeo")) return;
    await withServerLog(async () => {
      const { image, exec } = await clients().clientSetup("tls-docker");
      const port = registry().port;
      const goodTunnel = tunnel(proxy);
      const wrongTunnel = tunnel(wrongProxy);
      for (const [name, root] of [
        [dnsName, ca.rootFile],
        [wrongName, wrongRoot],
      ] as const) {
        const dir = join("/etc/docker/certs.d", `${name}:${port}`);
        dockerCertDirs.push(dir);
        await mkdir(dir, { recursive: true });
        await copyFile(root, join(dir, "ca.crt"));
      }
      // one daemon per name: HTTPS_PROXY is per daemon, and each proxy tunnels only its name
      const daemons = await clients().startDockerd("tls-docker", { HTTPS_PROXY: goodTunnel.url, NO_PROXY: "" });
      try {
        const docker = (args: string[]) => exec("docker", args, daemons.env);
        const ref = `${dnsName}:${port}/tls/docker:1`;
        await docker(["load", "-i", await clients().dockerArchive(exec, image, ref, "tls-docker.tar")]);
        await docker(["login", "-u", "admin", "-p", registry().adminPassword, `${dnsName}:${port}`]);
        const push = await docker(["push", ref]);
        const pushed = /digest: (sha256:[0-9a-f]{64})/.exec(push.stdout)?.[1];
        assert.equal(await tagDigest("tls/docker", "1"), pushed, "the registry's digest for the pushed tag");
        await docker(["rmi", ref]);
        const pull = await docker(["pull", ref]);
        assert.equal(/Digest: (sha256:[0-9a-f]{64})/.exec(pull.stdout)?.[1], pushed, "pulled digest");
        assert.ok(goodTunnel.tunnels.length > 0, "dockerd reached the registry by its name, through the proxy");
      } catch (error) {
        if (error instanceof Error) error.message += `\n--- dockerd log (tail) ---\n${daemons.dockerd.log()}`;
        throw error;
      } finally {
        await daemons.stop();
      }

      const wrong = await clients().startDockerd("tls-docker-wrong", { HTTPS_PROXY: wrongTunnel.url, NO_PROXY: "" });
      try {
        const refused = await failure(
          exec("docker", ["login", "-u", "admin", "-p", registry().adminPassword, `${wrongName}:${port}`], wrong.env),
        );
        assert.match(refused, UNTRUSTED, "dockerd trusting another CA must refuse the registry");
        assert.ok(wrongTunnel.tunnels.length > 0, "the refusal came from the TLS handshake, not from DNS");
      } finally {
        await wrong.stop();
      }
    });
  });

  /**
   * containerd 1.6 speaks plain HTTP to loopback hosts unless a hosts.toml says otherwise, so
   * `ctr` too reaches the registry by its DNS name through the tunnel (HTTPS_PROXY).
   */
  test("containerd: ctr --tlscacert push and pull; another CA is refused", { timeout: TEST_MS }, async (t) => {
    if (!requireBinaries(t, "containerd", "ctr")) return;
    await withServerLog(async () => {
      const { image, exec } = await clients().clientSetup("tls-ctr");
      const host = `${dnsName}:${registry().port}`;
      const ref = `${host}/tls/ctr:1`;
      const { daemon, socket } = await clients().startContainerd("tls-containerd");
      try {
        const ctr = (args: string[]) =>
          exec("ctr", ["--address", socket, ...args], { HTTPS_PROXY: tunnel(proxy).url, NO_PROXY: "" });
        const archive = join(clients().work, "tls-ctr.tar");
        await writeOciArchive(image, archive);
        await ctr(["images", "import", "--base-name", `${host}/tls/ctr`, archive]);
        const user = `admin:${registry().adminPassword}`;
        assert.match(await failure(ctr(["images", "push", "--tlscacert", wrongRoot, "--user", user, ref])), UNTRUSTED);
        assert.match(await failure(ctr(["images", "push", "--user", user, ref])), UNTRUSTED, "system roots only");
        await ctr(["images", "push", "--tlscacert", ca.rootFile, "--user", user, ref]);
        assert.equal(await tagDigest("tls/ctr", "1"), image.manifestDigest);
        await ctr(["images", "rm", "--sync", ref]);
        await ctr(["images", "pull", "--tlscacert", ca.rootFile, "--user", user, ref]);
        const line = (await ctr(["images", "ls"])).stdout.split("\n").find((l) => l.startsWith(`${ref} `));
        assert.equal(/sha256:[0-9a-f]{64}/.exec(line ?? "")?.[0], image.manifestDigest, "pulled digest");
      } catch (error) {
        if (error instanceof Error) error.message += `\n--- containerd log (tail) ---\n${daemon.log()}`;
        throw error;
      } finally {
        await daemon.stop();
      }
    });
  });

  /**
   * The README's newcomer path, step by step as written there: skopeo pushes trusting the CA
   * (`--dest-cert-dir`), the operator makes a pull-only token with the CLI and a Kubernetes
   * pull secret from it, and containerd, trusting the CA through its hosts configuration
   * (`/etc/containerd/certs.d/<host>/hosts.toml`, here `--hosts-dir`), pulls with the
   * secret's credentials over HTTPS, as kubelet has it do.
   */
  test(
    "newcomer path: a pull-only token as a pull secret, containerd pulls over HTTPS",
    { timeout: TEST_MS },
    async (t) => {
      if (!requireBinaries(t, "containerd", "ctr", "skopeo")) return;
      await withServerLog(async () => {
        const { image, env, exec } = await clients().clientSetup("tls-k8s");
        const host = registry().host;
        const ref = `${host}/tls/k8s/app:1`;
        const policy = ["--policy", clients().policy];
        await exec("skopeo", [
          "copy",
          ...policy,
          "--dest-cert-dir",
          goodCerts,
          "--dest-creds",
          `admin:${registry().adminPassword}`,
          `oci:${image.dir}:${image.tag}`,
          `docker://${ref}`,
        ]);
        const created = await run(
          process.execPath,
          [CLI, "token", "create", "tls-k8s-nodes", "--allow", "tls/k8s/*:pull", "--expires", "1d"],
          {
            env: {
              ...env,
              STOWAGE_STORAGE_CONNECTION_STRING: azurite?.connectionString ?? "",
              STOWAGE_TABLE_PREFIX: registry().tablePrefix,
            },
          },
        );
        const secret = created.stdout.trim();
        // `kubectl create secret docker-registry stowage-pull --docker-server=HOST --docker-username=tls-k8s-nodes --docker-password=SECRET`
        const dockerconfigjson = JSON.stringify({
          auths: {
            [host]: {
              username: "tls-k8s-nodes",
              password: secret,
              auth: Buffer.from(`tls-k8s-nodes:${secret}`).toString("base64"),
            },
          },
        });
        const credentials = Buffer.from(
          (JSON.parse(dockerconfigjson) as { auths: Record<string, { auth: string }> }).auths[host]?.auth ?? "",
          "base64",
        ).toString();

        const hostsDir = join(clients().work, "certs.d");
        await mkdir(join(hostsDir, host), { recursive: true });
        await copyFile(ca.rootFile, join(hostsDir, host, "ca.crt"));
        await writeFile(
          join(hostsDir, host, "hosts.toml"),
          `server = "https://${host}"\n[host."https://${host}"]\n  capabilities = ["pull", "resolve"]\n  ca = "${join(hostsDir, host, "ca.crt")}"\n`,
        );
        const { daemon, socket } = await clients().startContainerd("tls-k8s-containerd");
        try {
          const ctr = (args: string[]) => exec("ctr", ["--address", socket, ...args]);
          const tokenPostsBefore = tokenPostsIn(registry().output());
          await ctr(["images", "pull", "--hosts-dir", hostsDir, "--user", credentials, ref]);
          const line = (await ctr(["images", "ls"])).stdout.split("\n").find((l) => l.startsWith(`${ref} `));
          assert.equal(
            /sha256:[0-9a-f]{64}/.exec(line ?? "")?.[0],
            image.manifestDigest,
            "pulled with the pull secret",
          );
          assert.ok(
            tokenPostsIn(registry().output()) > tokenPostsBefore,
            "containerd logged in with the OAuth2 POST form",
          );
        } catch (error) {
          if (error instanceof Error) error.message += `\n--- containerd log (tail) ---\n${daemon.log()}`;
          throw error;
        } finally {
          await daemon.stop();
        }
        await assert.rejects(
          exec("skopeo", [
            "copy",
            ...policy,
            "--dest-cert-dir",
            goodCerts,
            "--dest-creds",
            credentials,
            `oci:${image.dir}:${image.tag}`,
            `docker://${host}/tls/k8s/app:2`,
          ]),
          "a pull-only token must not push",
        );
      });
    },
  );
});
