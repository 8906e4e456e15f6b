import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import functions, { type HttpResponseInit } from "@azure/functions";
import { useAzurite } from "../helpers/azurite.js";

const { HttpRequest, InvocationContext } = functions;

/** functions/ui.ts, called the way the Functions host calls it: the page, its assets and the JSON API. */
describe("Azure Functions: the web UI and its API (functions/ui.ts)", () => {
  const azurite = useAzurite();
  let handler: typeof import("../../functions/ui.js").uiHandler;
  const authorization = `Basic ${Buffer.from("admin:functions-ui-password").toString("base64")}`;

  before(async () => {
    const id = randomBytes(4).toString("hex");
    Object.assign(process.env, {
      STOWAGE_STORAGE_CONNECTION_STRING: azurite().connectionString,
      STOWAGE_CONTAINER: `fnui-${id}`,
      STOWAGE_TABLE_PREFIX: `fnui${id}`,
      STOWAGE_ADMIN_PASSWORD: "functions-ui-password",
      STOWAGE_SECRETS_DIR: await mkdtemp(join(tmpdir(), "stw-fnui-secrets-")),
    });
    ({ uiHandler: handler } = await import("../../functions/ui.js"));
  });

  const call = (url: string, headers: Record<string, string> = {}) =>
    handler(
      new HttpRequest({ method: "GET", url: `http://func.test${url}`, headers }),
      new InvocationContext({ logHandler() {} }),
    );

  async function text(response: HttpResponseInit): Promise<string> {
    const chunks: Uint8Array[] = [];
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) chunks.push(chunk);
    return Buffer.concat(chunks).toString();
  }

  it("serves the page and its script", async () => {
    const page = await call("/");
    assert.equal(page.status, 200);
    const html = await text(page);
    const script = /src="(\/ui\/[^"]+)"/.exec(html)?.[1];
    assert.ok(script, html);
    const asset = await call(script);
    assert.equal(asset.status, 200);
    assert.ok((await text(asset)).length > 1000);
  });

  it("answers the JSON API with the same credentials as the registry", async () => {
    assert.equal((await call("/api/v1/repositories")).status, 401);
    const listed = await call("/api/v1/repositories", { authorization });
    assert.equal(listed.status, 200);
    assert.deepEqual(JSON.parse(await text(listed)), { repositories: [] });
  });
});
