import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import functions, { type HttpRequestInit, type HttpResponseInit } from "@azure/functions";
import { useAzurite } from "../helpers/azurite.js";
import { randomBlob, sha256 } from "../helpers/content.js";

const { HttpRequest, InvocationContext } = functions;

/**
 * The Azure Functions entry point, called the way the Functions host calls it: with the
 * library's own HttpRequest and InvocationContext (the Core Tools cannot be installed here).
 */
describe("Azure Functions adapter (functions/registry.ts)", () => {
  const azurite = useAzurite();
  let handler: typeof import("../../functions/registry.js").registryHandler;
  let token: string;

  before(async () => {
    const id = randomBytes(4).toString("hex");
    Object.assign(process.env, {
      STOWAGE_STORAGE_CONNECTION_STRING: azurite().connectionString,
      STOWAGE_CONTAINER: `fn-${id}`,
      STOWAGE_TABLE_PREFIX: `fn${id}`,
      STOWAGE_BLOB_REDIRECT: "true",
      STOWAGE_ADMIN_PASSWORD: "functions-admin-password",
      STOWAGE_SECRETS_DIR: await mkdtemp(join(tmpdir(), "stw-fn-secrets-")),
    });
    ({ registryHandler: handler } = await import("../../functions/registry.js"));
    // a token from the token function (functions/token.ts), as a client would get one
    const { tokenHandler } = await import("../../functions/token.js");
    const scopes = ["fn/app", "fn/range", "fn/image"].map((name) => `scope=repository:${name}:pull,push`).join("&");
    const authorization = `Basic ${Buffer.from("admin:functions-admin-password").toString("base64")}`;
    const reply = await tokenHandler(
      new HttpRequest({ method: "GET", url: `http://func.test/token?${scopes}`, headers: { authorization } }),
      new InvocationContext({ logHandler() {} }),
    );
    assert.equal(reply.status, 200);
    token = (JSON.parse((await bodyBytes(reply)).toString()) as { token: string }).token;
  });

  /** A registry request with the bearer token (`anonymous: true` sends none). */
  const call = (init: HttpRequestInit & { anonymous?: boolean }) => {
    const { anonymous, ...rest } = init;
    const headers = {
      ...(rest.headers as Record<string, string> | undefined),
      ...(anonymous ? {} : { authorization: `Bearer ${token}` }),
    };
    return handler(
      new HttpRequest({ ...rest, headers, url: `http://func.test${init.url}` }),
      new InvocationContext({ logHandler() {} }),
    );
  };

  async function bodyBytes(response: HttpResponseInit): Promise<Buffer> {
    assert.ok(response.body instanceof ReadableStream, "body is streamed, not buffered");
    const chunks: Uint8Array[] = [];
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) chunks.push(chunk);
    return Buffer.concat(chunks);
  }

  const header = (response: HttpResponseInit, name: string) =>
    (response.headers as Record<string, string>)[name.toLowerCase()];

  it("challenges a request without a token, naming the token function as realm", async () => {
    const response = await call({ method: "GET", url: "/v2/fn/app/manifests/1", anonymous: true });
    assert.equal(response.status, 401);
    assert.equal(
      header(response, "WWW-Authenticate"),
      'Bearer realm="http://func.test/token",service="stowage",scope="repository:fn/app:pull"',
    );
  });

  it("answers GET /v2/ with the API version header", async () => {
    const response = await call({ method: "GET", url: "/v2/" });
    assert.equal(response.status, 200);
    assert.equal(header(response, "Docker-Distribution-API-Version"), "registry/2.0");
  });

  it("takes a monolithic upload, answers HEAD without a body, and redirects GET to a working SAS URL", async () => {
    const blob = randomBlob(100_000);
    const put = await call({
      method: "POST",
      url: `/v2/fn/app/blobs/uploads/?digest=${blob.digest}`,
      body: { bytes: blob.data },
    });
    assert.equal(put.status, 201);
    assert.equal(header(put, "Docker-Content-Digest"), blob.digest);

    const head = await call({ method: "HEAD", url: `/v2/fn/app/blobs/${blob.digest}` });
    assert.equal(head.status, 200);
    assert.equal(header(head, "Content-Length"), String(blob.data.length));
    assert.equal(head.body, undefined);

    const get = await call({ method: "GET", url: `/v2/fn/app/blobs/${blob.digest}` });
    assert.equal(get.status, 307);
    const location = header(get, "Location") as string;
    assert.match(location, /^http:\/\/127\.0\.0\.1:\d+\/devstoreaccount1\/.*sig=/);
    const direct = await fetch(location);
    assert.equal(direct.status, 200);
    assert.equal(sha256(Buffer.from(await direct.arrayBuffer())), blob.digest);
  });

  it("streams a ranged blob read through the function (206)", async () => {
    const blob = randomBlob(50_000);
    await call({
      method: "POST",
      url: `/v2/fn/range/blobs/uploads/?digest=${blob.digest}`,
      body: { bytes: blob.data },
    });
    const response = await call({
      method: "GET",
      url: `/v2/fn/range/blobs/${blob.digest}`,
      headers: { range: "bytes=100-199" },
    });
    assert.equal(response.status, 206);
    assert.equal(header(response, "Content-Range"), `bytes 100-199/${blob.data.length}`);
    assert.deepEqual(await bodyBytes(response), blob.data.subarray(100, 200));
  });

  it("pushes and pulls a manifest through POST, PATCH, PUT", async () => {
    const layer = randomBlob(10_000);
    const start = await call({ method: "POST", url: "/v2/fn/image/blobs/uploads/" });
    assert.equal(start.status, 202);
    const location = header(start, "Location") as string;
    const patch = await call({ method: "PATCH", url: location, body: { bytes: layer.data } });
    assert.equal(patch.status, 202);
    assert.equal(header(patch, "Range"), `0-${layer.data.length - 1}`);
    const done = await call({ method: "PUT", url: `${header(patch, "Location")}&digest=${layer.digest}` });
    assert.equal(done.status, 201);

    const config = randomBlob(100);
    await call({
      method: "POST",
      url: `/v2/fn/image/blobs/uploads/?digest=${config.digest}`,
      body: { bytes: config.data },
    });
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: config.digest, size: 100 },
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: layer.digest, size: layer.data.length }],
    });
    const pushed = await call({
      method: "PUT",
      url: "/v2/fn/image/manifests/v1",
      body: { string: manifest },
      headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
    });
    assert.equal(pushed.status, 201);
    assert.equal(header(pushed, "Docker-Content-Digest"), sha256(manifest));

    const pulled = await call({ method: "GET", url: "/v2/fn/image/manifests/v1" });
    assert.equal(pulled.status, 200);
    assert.equal(header(pulled, "Content-Type"), "application/vnd.oci.image.manifest.v1+json");
    assert.equal((await bodyBytes(pulled)).toString(), manifest);
  });

  it("returns spec-shaped errors", async () => {
    const response = await call({ method: "GET", url: "/v2/fn/image/manifests/missing" });
    assert.equal(response.status, 404);
    const body = JSON.parse((await bodyBytes(response)).toString());
    assert.equal(body.errors[0].code, "MANIFEST_UNKNOWN");
  });
});
