import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { request } from "node:http";
import { after, before, describe, it } from "node:test";
import { createNodeServer } from "../../shared/adapters/node-http.js";
import { useAzurite } from "../helpers/azurite.js";
import { randomBlob, sha256 } from "../helpers/content.js";
import { createTestRegistry } from "../helpers/registry.js";

/** The Node HTTP adapter over real sockets: streamed bodies both ways, HEAD, keep-alive. */
describe("Node HTTP server adapter", () => {
  const azurite = useAzurite();
  let base: string;
  let close: () => Promise<void>;

  before(async () => {
    const registry = await createTestRegistry(azurite().connectionString, { STOWAGE_BLOCK_SIZE_MIB: "1" });
    const server = createNodeServer(registry.handle, registry.config.http);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => new Promise((resolve) => server.close(() => resolve()));
    server.unref();
  });
  after(() => close());

  /** PATCH with chunked transfer encoding, the way Docker streams a layer. */
  function streamPatch(
    path: string,
    data: Buffer,
  ): Promise<{ status: number; range: string | undefined; location: string | undefined }> {
    return new Promise((resolve, reject) => {
      const req = request(
        `${base}${path}`,
        { method: "PATCH", headers: { "content-type": "application/octet-stream" } },
        (res) => {
          res.resume();
          res.on("end", () =>
            resolve({ status: res.statusCode as number, range: res.headers.range, location: res.headers.location }),
          );
        },
      );
      req.on("error", reject);
      for (let offset = 0; offset < data.length; offset += 300_000) req.write(data.subarray(offset, offset + 300_000));
      req.end();
    });
  }

  it("streams a multi-block layer in with chunked encoding and back out byte-identical", async () => {
    const blob = randomBlob(3 * 1024 * 1024 + 12_345);
    const start = await fetch(`${base}/v2/node/app/blobs/uploads/`, { method: "POST" });
    assert.equal(start.status, 202);
    const location = start.headers.get("location") as string;
    const patch = await streamPatch(location, blob.data);
    assert.equal(patch.status, 202);
    assert.equal(patch.range, `0-${blob.data.length - 1}`);
    const put = await fetch(`${base}${patch.location}&digest=${blob.digest}`, { method: "PUT" });
    assert.equal(put.status, 201);

    const get = await fetch(`${base}/v2/node/app/blobs/${blob.digest}`);
    assert.equal(get.status, 200);
    assert.equal(get.headers.get("content-length"), String(blob.data.length));
    assert.equal(sha256(Buffer.from(await get.arrayBuffer())), blob.digest);
  });

  it("answers HEAD with headers and no body", async () => {
    const blob = randomBlob(1000);
    await fetch(`${base}/v2/node/head/blobs/uploads/?digest=${blob.digest}`, { method: "POST", body: blob.data });
    const head = await fetch(`${base}/v2/node/head/blobs/${blob.digest}`, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("content-length"), "1000");
    assert.equal(head.headers.get("docker-content-digest"), blob.digest);
    assert.equal((await head.arrayBuffer()).byteLength, 0);
  });

  it("passes error JSON through unchanged", async () => {
    const response = await fetch(`${base}/v2/Bad_Name/tags/list`);
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as { errors: { code: string }[] }).errors[0]?.code, "NAME_INVALID");
  });
});
