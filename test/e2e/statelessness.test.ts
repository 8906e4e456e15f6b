import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
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

  before(async () => {
    azurite = await startAzurite();
    const shared = isolatedNames();
    [a, b] = await Promise.all([
      startServerProcess({ connectionString: azurite.connectionString, ...shared }),
      startServerProcess({ connectionString: azurite.connectionString, ...shared }),
    ]);
    assert.notEqual(a.port, b.port);
  });

  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await azurite?.stop();
  });

  const servers = () => {
    if (!a || !b) throw new Error("servers not started");
    return { a, b };
  };

  /** Adds both servers' output to an assertion failure. */
  async function withOutput(fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (error) {
      const { a, b } = servers();
      if (error instanceof Error) error.message += `\n--- server A ---\n${a.output().slice(-4000)}\n--- server B ---\n${b.output().slice(-4000)}`;
      throw error;
    }
  }

  test("an upload started on A, continued on B then A, completes on B and reads back from A", () =>
    withOutput(async () => {
      const { a, b } = servers();
      const repo = "e2e/stateless";
      const first = randomBytes(300 * 1024 + 17);
      const second = randomBytes(200 * 1024 + 5);
      const whole = Buffer.concat([first, second]);
      const digest = sha256(whole);

      const started = await fetch(`${a.url}/v2/${repo}/blobs/uploads/`, { method: "POST", headers: { "Content-Length": "0" } });
      assert.equal(started.status, 202, await started.text());
      const location = started.headers.get("location");
      assert.ok(location, "POST answered without Location");
      const at = (server: ServerProcess, loc: string) => new URL(loc, server.url).toString();

      const patch1 = await fetch(at(b, location), {
        method: "PATCH",
        headers: { "Content-Type": "application/octet-stream" },
        body: first,
      });
      assert.equal(patch1.status, 202, await patch1.text());
      assert.equal(patch1.headers.get("range"), `0-${first.length - 1}`);
      const location2 = patch1.headers.get("location") ?? location;

      const patch2 = await fetch(at(a, location2), {
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
      const status = await fetch(at(b, location3));
      assert.equal(status.status, 204, await status.text());
      assert.equal(status.headers.get("range"), `0-${whole.length - 1}`);

      const done = new URL(at(b, location3));
      done.searchParams.set("digest", digest);
      const put = await fetch(done, { method: "PUT", headers: { "Content-Length": "0" } });
      assert.equal(put.status, 201, await put.text());
      assert.equal(put.headers.get("docker-content-digest"), digest);

      const got = await fetch(`${a.url}/v2/${repo}/blobs/${digest}`);
      assert.equal(got.status, 200);
      const bytes = Buffer.from(await got.arrayBuffer());
      assert.equal(bytes.length, whole.length);
      assert.ok(bytes.equals(whole), "blob read from A differs from the chunks sent to B and A");
      assert.equal(got.headers.get("docker-content-digest"), digest);

      const head = await fetch(`${b.url}/v2/${repo}/blobs/${digest}`, { method: "HEAD" });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get("content-length"), String(whole.length));
    }));

  test("a manifest pushed through A is read by tag through B", () =>
    withOutput(async () => {
      const { a, b } = servers();
      const repo = "e2e/stateless-manifest";
      const layer = randomBytes(64 * 1024);
      const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", rootfs: { type: "layers", diff_ids: [] } }));
      for (const blob of [layer, config]) {
        const response = await fetch(`${a.url}/v2/${repo}/blobs/uploads/?digest=${sha256(blob)}`, {
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
      const put = await fetch(`${a.url}/v2/${repo}/manifests/v1`, {
        method: "PUT",
        headers: { "Content-Type": OCI_MANIFEST },
        body: manifest,
      });
      assert.equal(put.status, 201, await put.text());
      assert.equal(put.headers.get("docker-content-digest"), digest);

      const got = await fetch(`${b.url}/v2/${repo}/manifests/v1`, { headers: { Accept: OCI_MANIFEST } });
      assert.equal(got.status, 200, await got.clone().text());
      assert.equal(got.headers.get("docker-content-digest"), digest);
      assert.equal(got.headers.get("content-type"), OCI_MANIFEST);
      assert.ok(Buffer.from(await got.arrayBuffer()).equals(manifest), "manifest bytes read through B differ");

      const tags = await fetch(`${b.url}/v2/${repo}/tags/list`);
      assert.equal(tags.status, 200);
      assert.deepEqual(((await tags.json()) as { tags: string[] }).tags, ["v1"]);

      const layerFromB = await fetch(`${b.url}/v2/${repo}/blobs/${sha256(layer)}`);
      assert.equal(layerFromB.status, 200);
      assert.ok(Buffer.from(await layerFromB.arrayBuffer()).equals(layer));
    }));
});
