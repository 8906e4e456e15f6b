import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, it } from "node:test";
import functions, { type HttpResponseInit } from "@azure/functions";
import { useAzurite } from "../helpers/azurite.js";

const { HttpRequest, InvocationContext } = functions;

/** functions/ops.ts, called the way the Functions host calls it: probes and token-protected metrics. */
describe("Azure Functions: probes and metrics (functions/ops.ts)", () => {
  const azurite = useAzurite();
  let handler: typeof import("../../functions/ops.js").opsHandler;
  const metricsToken = randomBytes(24).toString("base64url");

  before(async () => {
    const id = randomBytes(4).toString("hex");
    Object.assign(process.env, {
      STOWAGE_STORAGE_CONNECTION_STRING: azurite().connectionString,
      STOWAGE_CONTAINER: `fnops-${id}`,
      STOWAGE_TABLE_PREFIX: `fnops${id}`,
      STOWAGE_ADMIN_PASSWORD: "functions-ops-password",
      STOWAGE_SECRETS_DIR: await mkdtemp(join(tmpdir(), "stw-fnops-secrets-")),
      STOWAGE_METRICS: "token",
      STOWAGE_METRICS_TOKEN: metricsToken,
    });
    ({ opsHandler: handler } = await import("../../functions/ops.js"));
  });

  const call = (url: string, headers: Record<string, string> = {}) =>
    handler(
      new HttpRequest({ method: "GET", url: `https://func.test${url}`, headers }),
      new InvocationContext({ logHandler() {} }),
    );

  async function text(response: HttpResponseInit): Promise<string> {
    const chunks: Uint8Array[] = [];
    for await (const chunk of (response.body ?? []) as unknown as AsyncIterable<Uint8Array>) chunks.push(chunk);
    return Buffer.concat(chunks).toString();
  }

  it("answers /healthz and /readyz without credentials", async () => {
    assert.equal((await call("/healthz")).status, 200);
    const ready = await call("/readyz");
    assert.equal(ready.status, 200, await text(ready));
  });

  it("serves /metrics only with the bearer token", async () => {
    assert.equal((await call("/metrics")).status, 401);
    assert.equal((await call("/metrics", { authorization: "Bearer not-the-token-at-all" })).status, 401);
    const metrics = await call("/metrics", { authorization: `Bearer ${metricsToken}` });
    assert.equal(metrics.status, 200);
    assert.match(await text(metrics), /^# HELP /m);
  });
});
