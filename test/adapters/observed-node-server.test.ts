import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { createNodeServer } from "../../shared/adapters/node-http.js";
import { openAccess } from "../../shared/http/authorizer.js";
import type { LogRecord } from "../../shared/lib/log-writer.js";
import { useAzurite } from "../helpers/azurite.js";
import { imageManifest, randomBlob } from "../helpers/content.js";
import { createTestApp } from "../helpers/registry.js";

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

/**
 * Request observation over the Node server, where the adapter itself reports the end of each
 * response and counts each request body's bytes as it receives them (no counting streams): the
 * request line and the metrics still see the body bytes received and sent, a chunked upload and a
 * blob download included (piped straight from storage), and HEAD sends none.
 */
describe("request log and metrics over the Node server", () => {
  const azurite = useAzurite();
  const lines: LogRecord[] = [];
  let base: string;
  let close: () => Promise<void>;
  let scrape: () => Promise<string>;

  before(async () => {
    const app = await createTestApp(
      azurite().connectionString,
      { STOWAGE_METRICS: "loopback", STOWAGE_BLOCK_SIZE_MIB: "1" },
      { authorizer: openAccess, logs: (record) => lines.push(record), accessLog: true },
    );
    const server = createNodeServer(app.handle, app.config.http);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => new Promise((resolve) => server.close(() => resolve()));
    server.unref();
    scrape = async () => (await fetch(`${base}/metrics`)).text();
  });
  after(() => close());

  /** The request line for the answer that carried this `X-Request-Id` (written once its body is sent). */
  async function lineFor(response: Response): Promise<LogRecord> {
    const id = response.headers.get("x-request-id");
    assert.ok(id);
    for (let waited = 0; waited < 2000; waited += 10) {
      const line = lines.find((l) => l.msg === "request" && l.requestId === id);
      if (line) return line;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.fail(`no request line for ${id}`);
  }

  it("logs the body bytes of a blob download, a manifest GET and a HEAD", async () => {
    const layer = randomBlob(1_500_000);
    const config = randomBlob(300);
    let post: Response | undefined;
    for (const blob of [layer, config]) {
      post = await fetch(`${base}/v2/observed/app/blobs/uploads/?digest=${blob.digest}`, {
        method: "POST",
        body: blob.data,
      });
      assert.equal(post.status, 201);
    }
    // the adapter counts the bytes received: a monolithic upload, a chunked PATCH, bodiless POST and PUT
    assert.equal((await lineFor(post!)).bytesIn, config.data.length);
    const chunked = randomBlob(70_000);
    const opened = await fetch(`${base}/v2/observed/app/blobs/uploads/`, { method: "POST" });
    assert.equal(opened.status, 202);
    assert.equal((await lineFor(opened)).bytesIn, 0);
    const patched = await fetch(new URL(opened.headers.get("location")!, base), {
      method: "PATCH",
      body: new Blob([chunked.data]).stream(), // no length: sent chunked
      duplex: "half",
    } as RequestInit);
    assert.equal(patched.status, 202);
    assert.equal((await lineFor(patched)).bytesIn, chunked.data.length);
    const completion = new URL(patched.headers.get("location")!, base);
    completion.searchParams.set("digest", chunked.digest);
    const completed = await fetch(completion, { method: "PUT" });
    assert.equal(completed.status, 201);
    assert.equal((await lineFor(completed)).bytesIn, 0);

    const manifest = imageManifest({ digest: config.digest, size: 300 }, [{ digest: layer.digest, size: 1_500_000 }]);
    const put = await fetch(`${base}/v2/observed/app/manifests/v1`, {
      method: "PUT",
      headers: { "content-type": OCI_MANIFEST },
      body: manifest,
    });
    assert.equal(put.status, 201);
    assert.equal((await lineFor(put)).bytesIn, Buffer.byteLength(manifest));

    const download = await fetch(`${base}/v2/observed/app/blobs/${layer.digest}`);
    assert.equal(Buffer.from(await download.arrayBuffer()).length, layer.data.length);
    const downloaded = await lineFor(download);
    assert.equal(downloaded.bytesOut, layer.data.length);
    assert.equal(downloaded.route, "/v2/{name}/blobs/{digest}");

    const get = await fetch(`${base}/v2/observed/app/manifests/v1`, { headers: { accept: OCI_MANIFEST } });
    assert.equal(await get.text(), manifest);
    const got = await lineFor(get);
    assert.equal(got.bytesOut, Buffer.byteLength(manifest));
    assert.equal(got.status, 200);

    const head = await fetch(`${base}/v2/observed/app/manifests/v1`, {
      method: "HEAD",
      headers: { accept: OCI_MANIFEST },
    });
    assert.equal(head.status, 200);
    assert.equal((await lineFor(head)).bytesOut, 0);

    const text = await scrape();
    const sent = /^stowage_http_sent_bytes_total\{route="\/v2\/\{name\}\/blobs\/\{digest\}"\} (\d+)$/m.exec(text);
    assert.equal(Number(sent?.[1]), layer.data.length);
  });
});
