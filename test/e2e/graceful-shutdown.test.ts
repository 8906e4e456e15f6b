import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { startAzurite, type AzuriteInstance } from "../../shared/server/azurite.js";
import { httpsRequest } from "../helpers/https-get.js";
import { createTestCa, type TestCa } from "../helpers/test-ca.js";
import { startServerProcess, type ServerProcess } from "./server-process.js";

/**
 * `kubectl delete pod` / `docker stop` while a layer is being pushed: the server process gets
 * SIGTERM, refuses new connections, answers the upload in progress, then exits.
 */
describe("the server process on SIGTERM", () => {
  let azurite: AzuriteInstance | undefined;
  let server: ServerProcess | undefined;
  let ca: TestCa;

  before(async () => {
    ca = createTestCa(mkdtempSync(join(tmpdir(), "stw-shutdown-ca-")));
    const leaf = ca.issue("registry");
    azurite = await startAzurite();
    server = await startServerProcess({
      connectionString: azurite.connectionString,
      env: { STOWAGE_TLS_CERT_FILE: leaf.certFile, STOWAGE_TLS_KEY_FILE: leaf.keyFile },
      ca: ca.rootPem,
    });
  });
  after(async () => {
    await server?.stop();
    await azurite?.stop();
  });

  it("finishes an upload in progress over HTTPS, then exits", async () => {
    const registry = server as ServerProcess;
    const token = await registry.token(["repository:shutdown/app:push,pull"]);
    const auth = { Authorization: `Bearer ${token}` };
    const start = await httpsRequest(`${registry.url}/v2/shutdown/app/blobs/uploads/`, {
      method: "POST",
      headers: auth,
      ca: ca.rootPem,
    });
    assert.equal(start.status, 202);
    const req = request(`${registry.url}${String(start.headers.location)}`, {
      method: "PATCH",
      ca: ca.rootPem,
      agent: false,
      // the 100 goes out only once the handler reads the body: proof the request is in progress
      headers: { ...auth, "content-type": "application/octet-stream", expect: "100-continue" },
    });
    const continued = new Promise<void>((resolve) => req.once("continue", () => resolve()));
    const answer = new Promise<number>((resolve, reject) => {
      req.on("response", (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      });
      req.on("error", reject);
    });
    const write = (n: number) =>
      new Promise<void>((resolve) => req.write(Buffer.alloc(256 * 1024, n), () => resolve()));
    req.flushHeaders();
    await continued;
    await write(1);
    process.kill(registry.pid, "SIGTERM");
    for (let i = 0; i < 100 && !/SIGTERM: stopping/.test(registry.output()); i++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    assert.match(registry.output(), /SIGTERM: stopping/);
    await assert.rejects(
      httpsRequest(`${registry.url}/v2/`, { ca: ca.rootPem, agent: false }),
      "new connections are refused",
    );
    for (let n = 2; n < 6; n++) await write(n);
    req.end();
    assert.equal(await answer, 202, "the upload in progress got its answer");
    for (let i = 0; i < 200 && registry.running(); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(registry.running(), false, "the process exited");
    assert.doesNotMatch(registry.output(), /cut off/);
  });
});
