import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { startAzurite, type AzuriteInstance } from "../../shared/server/azurite.js";
import { OCI_CONFIG, OCI_LAYER_GZIP, OCI_MANIFEST, sha256 } from "./oci-image.js";
import { isolatedNames, startServerProcess, type ServerProcess } from "./server-process.js";

/**
 * Two server processes on different ports sharing one Azurite, container and table prefix:
 * everything a request needs must come from storage, so any instance can continue what another
 * one started (Azure Functions scale-out, several plain Node replicas behind a balancer).
 */
describe("statelessness: two server processes over one storage account", { timeout: 120_000 }, () => {
  let azurite: AzuriteInstance | undefined;
  let a: ServerProcess | undefined;
  let b: ServerProcess | undefined;

  let dataDir = "";

  before(async () => {
    azurite = await startAzurite();
    // one storage account and one secret store (the signing keys), as a Key Vault would be shared
    const shared = {
      ...isolatedNames(),
      dataDir: await mkdtemp(join(tmpdir(), "stw-stateless-")),
      adminPassword: "stateless-admin-password",
    };
    dataDir = shared.dataDir;
    // started together on empty storage: both bootstrap auth at once, and must agree
    [a, b] = await Promise.all([
      startServerProcess({ connectionString: azurite.connectionString, ...shared }),
      startServerProcess({ connectionString: azurite.connectionString, ...shared }),
    ]);
    assert.notEqual(a.port, b.port);
  });

  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await azurite?.stop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const servers = () => {
    if (!a || !b) throw new Error("servers not started");
    return { a, b };
  };

  /** fetch with a bearer token. */
  const authorized =
    (token: string) =>
    (url: string | URL, init: RequestInit = {}): Promise<Response> =>
      fetch(url, {
        ...init,
        headers: { ...(init.headers as Record<string, string> | undefined), authorization: `Bearer ${token}` },
      });

  test("refuses requests without a token on both servers", async () => {
    const { a, b } = servers();
    for (const server of [a, b]) {
      const response = await fetch(`${server.url}/v2/e2e/stateless/tags/list`);
      assert.equal(response.status, 401);
      assert.match(response.headers.get("www-authenticate") ?? "", new RegExp(`^Bearer realm="${server.url}/token"`));
    }
  });

  /** Adds both servers' output to an assertion failure. */
  async function withOutput(fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (error) {
      const { a, b } = servers();
      if (error instanceof Error)
        error.message += `\n--- server A ---\n${a.output().slice(-4000)}\n--- server B ---\n${b.output().slice(-4000)}`;
      throw error;
    }
  }

  test("an upload started on A, continued on B then A, completes on B and reads back from A", () =>
    withOutput(async () => {
      const { a, b } = servers();
      const repo = "e2e/stateless";
      // a token issued by A works on B too: the keys and identities are in the shared stores
      const send = authorized(await a.token([`repository:${repo}:pull,push`]));
      const first = randomBytes(300 * 1024 + 17);
      const second = randomBytes(200 * 1024 + 5);
      const whole = Buffer.concat([first, second]);
      const digest = sha256(whole);

      const started = await send(`${a.url}/v2/${repo}/blobs/uploads/`, {
        method: "POST",
        headers: { "Content-Length": "0" },
      });
      assert.equal(started.status, 202, await started.text());
      const location = started.headers.get("location");
      assert.ok(location, "POST answered without Location");
      const at = (server: ServerProcess, loc: string) => new URL(loc, server.url).toString();

      const patch1 = await send(at(b, location), {
        method: "PATCH",
        headers: { "Content-Type": "application/octet-stream" },
        body: first,
      });
      assert.equal(patch1.status, 202, await patch1.text());
      assert.equal(patch1.headers.get("range"), `0-${first.length - 1}`);
      const location2 = patch1.headers.get("location") ?? location;

      const patch2 = await send(at(a, location2), {
        method: "PATCH",
        headers: {
          "Content-Type": "application/octet-stream",
          "Content-Range": `${first.length}-${whole.length - 1}`,
        },
        body: second,
      });
      assert.equal(patch2.status, 202, await patch2.text());
      assert.equal(patch2.headers.get("range"), `0-${whole.length - 1}`);
      const location3 = patch2.headers.get("location") ?? location2;

      // B sees the offset A wrote
      const status = await send(at(b, location3));
      assert.equal(status.status, 204, await status.text());
      assert.equal(status.headers.get("range"), `0-${whole.length - 1}`);

      const done = new URL(at(b, location3));
      done.searchParams.set("digest", digest);
      const put = await send(done, { method: "PUT", headers: { "Content-Length": "0" } });
      assert.equal(put.status, 201, await put.text());
      assert.equal(put.headers.get("docker-content-digest"), digest);

      const got = await send(`${a.url}/v2/${repo}/blobs/${digest}`);
      assert.equal(got.status, 200);
      const bytes = Buffer.from(await got.arrayBuffer());
      assert.equal(bytes.length, whole.length);
      assert.ok(bytes.equals(whole), "blob read from A differs from the chunks sent to B and A");
      assert.equal(got.headers.get("docker-content-digest"), digest);

      const head = await send(`${b.url}/v2/${repo}/blobs/${digest}`, { method: "HEAD" });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get("content-length"), String(whole.length));
    }));

  test("a manifest pushed through A is read by tag through B", () =>
    withOutput(async () => {
      const { a, b } = servers();
      const repo = "e2e/stateless-manifest";
      const send = authorized(await b.token([`repository:${repo}:pull,push`]));
      const layer = randomBytes(64 * 1024);
      const config = Buffer.from(
        JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } }),
      );
      for (const blob of [layer, config]) {
        const response = await send(`${a.url}/v2/${repo}/blobs/uploads/?digest=${sha256(blob)}`, {
          method: "POST",
          headers: { "Content-Type": "application/octet-stream" },
          body: blob,
        });
        assert.equal(response.status, 201, await response.text());
      }
      const manifest = Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          config: { mediaType: OCI_CONFIG, digest: sha256(config), size: config.length },
          layers: [{ mediaType: OCI_LAYER_GZIP, digest: sha256(layer), size: layer.length }],
        }),
      );
      const digest = sha256(manifest);
      const put = await send(`${a.url}/v2/${repo}/manifests/v1`, {
        method: "PUT",
        headers: { "Content-Type": OCI_MANIFEST },
        body: manifest,
      });
      assert.equal(put.status, 201, await put.text());
      assert.equal(put.headers.get("docker-content-digest"), digest);

      const got = await send(`${b.url}/v2/${repo}/manifests/v1`, { headers: { Accept: OCI_MANIFEST } });
      assert.equal(got.status, 200, await got.clone().text());
      assert.equal(got.headers.get("docker-content-digest"), digest);
      assert.equal(got.headers.get("content-type"), OCI_MANIFEST);
      assert.ok(Buffer.from(await got.arrayBuffer()).equals(manifest), "manifest bytes read through B differ");

      const tags = await send(`${b.url}/v2/${repo}/tags/list`);
      assert.equal(tags.status, 200);
      assert.deepEqual(((await tags.json()) as { tags: string[] }).tags, ["v1"]);

      const layerFromB = await send(`${b.url}/v2/${repo}/blobs/${sha256(layer)}`);
      assert.equal(layerFromB.status, 200);
      assert.ok(Buffer.from(await layerFromB.arrayBuffer()).equals(layer));
    }));
});
