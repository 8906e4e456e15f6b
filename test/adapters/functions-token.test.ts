import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import functions, { type HttpRequestInit, type HttpResponseInit } from "@azure/functions";
import { useAzurite } from "../helpers/azurite.js";

const { HttpRequest, InvocationContext } = functions;

/**
 * The token function (functions/token.ts) called the way the Functions host calls it, and its
 * tokens used on the registry function: the same core as the Node server's /token.
 */
describe("Azure Functions token endpoint (functions/token.ts)", () => {
  const azurite = useAzurite();
  let token: typeof import("../../functions/token.js").tokenHandler;
  let registry: typeof import("../../functions/registry.js").registryHandler;
  const admin = `Basic ${Buffer.from("admin:fn-token-admin-password").toString("base64")}`;

  before(async () => {
    const id = randomBytes(4).toString("hex");
    Object.assign(process.env, {
      STOWAGE_STORAGE_CONNECTION_STRING: azurite().connectionString,
      STOWAGE_CONTAINER: `fnt-${id}`,
      STOWAGE_TABLE_PREFIX: `fnt${id}`,
      STOWAGE_ADMIN_PASSWORD: "fn-token-admin-password",
      STOWAGE_SECRETS_DIR: await mkdtemp(join(tmpdir(), "stw-fnt-secrets-")),
      STOWAGE_LOGIN_MAX_FAILURES: "2",
    });
    ({ tokenHandler: token } = await import("../../functions/token.js"));
    ({ registryHandler: registry } = await import("../../functions/registry.js"));
  });

  const context = () => new InvocationContext({ logHandler() {} });
  const callToken = (init: HttpRequestInit) =>
    token(new HttpRequest({ ...init, url: `https://fn.example.net${init.url}` }), context());

  async function json(response: HttpResponseInit): Promise<Record<string, unknown>> {
    const chunks: Uint8Array[] = [];
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) chunks.push(chunk);
    return JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown>;
  }

  it("docker login: GET with Basic auth and offline_token returns a refresh token", async () => {
    const response = await callToken({
      method: "GET",
      url: "/token?service=stowage&offline_token=true&client_id=docker",
      headers: { authorization: admin },
    });
    assert.equal(response.status, 200);
    const body = await json(response);
    assert.ok(body.token && body.access_token && body.refresh_token);
    assert.ok((body.expires_in as number) >= 60);
  });

  it("containerd: POST form; the access token works on the registry function", async () => {
    const response = await callToken({
      method: "POST",
      url: "/token",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: {
        string: new URLSearchParams({
          grant_type: "password",
          username: "admin",
          password: "fn-token-admin-password",
          client_id: "containerd-client",
          scope: "repository:fn/app:pull registry:catalog:*",
        }).toString(),
      },
    });
    assert.equal(response.status, 200);
    const { access_token } = (await json(response)) as { access_token: string };
    const catalog = await registry(
      new HttpRequest({
        method: "GET",
        url: "https://fn.example.net/v2/_catalog",
        headers: { authorization: `Bearer ${access_token}` },
      }),
      context(),
    );
    assert.equal(catalog.status, 200);
  });

  it("publishes the JWKS on /token/jwks", async () => {
    const response = await callToken({ method: "GET", url: "/token/jwks" });
    assert.equal(response.status, 200);
    assert.equal(((await json(response)).keys as unknown[]).length, 1);
  });

  it("throttles by the client address the Functions front end puts in X-Forwarded-For", async () => {
    const from = (address: string, user: string) =>
      callToken({
        method: "GET",
        url: "/token",
        headers: {
          authorization: `Basic ${Buffer.from(`${user}:wrong`).toString("base64")}`,
          "x-forwarded-for": `${address}:50123`,
        },
      });
    // 4 x 2 failures per address are free; each from a different name so no user is locked
    for (let i = 0; i < 8; i++) assert.equal((await from("192.0.2.10", `user${i}`)).status, 401);
    assert.equal((await from("192.0.2.10", "someone")).status, 429);
    assert.equal((await from("192.0.2.11", "someone")).status, 401, "another address is not throttled");
  });
});
