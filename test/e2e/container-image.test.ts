import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startAzurite, type AzuriteInstance } from "../../shared/server/azurite.js";
import { httpsRequest } from "../helpers/https-get.js";
import { createTestCa, type TestCa } from "../helpers/test-ca.js";
import { OCI_MANIFEST, sha256, writeOciLayout } from "./oci-image.js";
import { run, searchPath } from "./processes.js";

/**
 * The container image serving a push. Opt-in: building the image needs a Node.js base that
 * cannot be pulled here (deploy/make-base-image.sh makes one) and takes minutes on a vfs
 * dockerd, so this runs only when STOWAGE_TEST_IMAGE names an image the daemon at
 * DOCKER_HOST already has:
 *
 *   deploy/make-base-image.sh && docker build --network host --build-arg NODE_IMAGE=local/node:20-bookworm -t stowage:dev .
 *   STOWAGE_TEST_IMAGE=stowage:dev node --test dist/test/e2e/container-image.test.js
 *
 * The container runs as built (non-root, `--read-only`, only /tmp writable) on the host's
 * network (the daemon may have no bridge), with TLS from a mounted PEM pair, against an
 * Azurite on loopback.
 */
const IMAGE = process.env.STOWAGE_TEST_IMAGE;

describe(
  "the container image",
  { skip: IMAGE ? false : "set STOWAGE_TEST_IMAGE to an image built from the Dockerfile" },
  () => {
    let azurite: AzuriteInstance | undefined;
    let work = "";
    let ca: TestCa;
    let port = 0;
    const name = `stowage-test-${randomBytes(4).toString("hex")}`;
    const password = randomBytes(12).toString("base64url");
    const env = { PATH: searchPath(), ...(process.env.DOCKER_HOST ? { DOCKER_HOST: process.env.DOCKER_HOST } : {}) };
    const docker = (args: string[], timeoutMs = 120_000) => run("docker", args, { env, timeoutMs });

    before(async () => {
      work = await mkdtemp(join(tmpdir(), "stw-image-"));
      ca = createTestCa(join(work, "ca"));
      const leaf = ca.issue("registry");
      const certs = join(work, "tls");
      await mkdir(certs);
      await copyFile(leaf.certFile, join(certs, "tls.crt"));
      await copyFile(leaf.keyFile, join(certs, "tls.key"));
      await run("chmod", ["-R", "a+rX", certs]); // the container's user is not the file's owner
      azurite = await startAzurite();
      port = await freePort();
      await docker([
      "run", "-d", "--name", name, "--network", "host", "--read-only", "--tmpfs", "/tmp",
      "-v", `${certs}:/etc/stowage/tls:ro`,
      "-e", `STOWAGE_STORAGE_CONNECTION_STRING=${azurite.connectionString}`,
      "-e", "HOST=127.0.0.1", "-e", `PORT=${port}`, "-e", `STOWAGE_ADMIN_PASSWORD=${password}`,
      "-e", "STOWAGE_TLS_CERT_FILE=/etc/stowage/tls/tls.crt", "-e", "STOWAGE_TLS_KEY_FILE=/etc/stowage/tls/tls.key",
      "-e", "STOWAGE_ACCESS_LOG=true",
      IMAGE as string,
    ]); // prettier-ignore
      for (let i = 0; ; i++) {
        const status = await httpsRequest(`https://127.0.0.1:${port}/v2/`, { ca: ca.rootPem, agent: false }).then(
          (a) => a.status,
          () => 0,
        );
        if (status === 401) break;
        if (i > 120) assert.fail(`the container did not answer:\n${(await docker(["logs", name])).stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    });

    after(async () => {
      await docker(["rm", "-f", name]).catch(() => undefined);
      await azurite?.stop();
      if (work) await rm(work, { recursive: true, force: true });
    });

    it("runs as a non-root user on a read-only root filesystem", async () => {
      const user = (await docker(["exec", name, "id", "-u"])).stdout.trim();
      assert.notEqual(user, "0");
      await assert.rejects(docker(["exec", name, "touch", "/app/x"]), "the root filesystem is read-only");
    });

    it("serves a skopeo push and pull over HTTPS", async () => {
      const image = await writeOciLayout(join(work, "image"), { tag: "1", layerKiB: 256, layerCount: 2 });
      const certDir = join(work, "client-certs");
      await mkdir(certDir);
      await copyFile(ca.rootFile, join(certDir, "ca.crt"));
      const policy = join(work, "policy.json");
      await writeFile(policy, JSON.stringify({ default: [{ type: "insecureAcceptAnything" }] }));
      const ref = `docker://127.0.0.1:${port}/image/app:1`;
      const clientEnv = {
        ...env,
        HOME: work,
        XDG_CACHE_HOME: join(work, "cache"),
        REGISTRY_AUTH_FILE: join(work, "auth.json"),
      };
      const skopeo = (args: string[]) => run("skopeo", args, { env: clientEnv });
      await skopeo([
        "copy",
        "--policy",
        policy,
        "--dest-cert-dir",
        certDir,
        "--dest-creds",
        `admin:${password}`,
        `oci:${image.dir}:1`,
        ref,
      ]);
      const out = join(work, "pulled");
      await skopeo([
        "copy",
        "--policy",
        policy,
        "--src-cert-dir",
        certDir,
        "--src-creds",
        `admin:${password}`,
        ref,
        `dir:${out}`,
      ]);
      assert.equal(sha256(await readFile(join(out, "manifest.json"))), image.manifestDigest);
      const token = await httpsRequest(`https://127.0.0.1:${port}/token?scope=repository:image/app:pull`, {
        headers: { authorization: `Basic ${Buffer.from(`admin:${password}`).toString("base64")}` },
        ca: ca.rootPem,
      });
      const head = await httpsRequest(`https://127.0.0.1:${port}/v2/image/app/manifests/1`, {
        method: "HEAD",
        headers: {
          authorization: `Bearer ${(JSON.parse(token.body) as { token: string }).token}`,
          accept: OCI_MANIFEST,
        },
        ca: ca.rootPem,
      });
      assert.equal(head.headers["docker-content-digest"], image.manifestDigest);
    });

    it("has a HEALTHCHECK that asks GET /healthz over HTTPS", async () => {
      const inspect = (await docker(["inspect", "--format", "{{json .Config.Healthcheck.Test}}", name])).stdout;
      assert.match(inspect, /healthcheck\.js/);
      const probe = await docker(["exec", name, "node", "dist/shared/server/healthcheck.js"]).then(
        (r) => r.stdout,
        (error: Error) => error.message,
      );
      assert.match(probe, /healthcheck: GET \/healthz \d{3}/, "the probe reached the server over HTTPS");
    });

    it("stops on SIGTERM (docker stop) well within its grace period", async () => {
      await docker(["stop", "--time", "30", name]);
      const state = JSON.parse((await docker(["inspect", "--format", "{{json .State}}", name])).stdout) as {
        ExitCode: number;
      };
      assert.equal(state.ExitCode, 0, "a clean exit, not a SIGKILL (137)");
    });
  },
);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
