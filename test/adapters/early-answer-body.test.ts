import assert from "node:assert/strict";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { createNodeServer } from "../../shared/adapters/node-http.js";
import { useAzurite } from "../helpers/azurite.js";
import { open, rawRequest } from "../helpers/raw-http.js";
import { createTestApp } from "../helpers/registry.js";

/**
 * A request refused before its body is read (401 from the authorizer) whose body arrives
 * only after the answer: the server drains it and stays up (a closed web stream must not be
 * closed again when the request ends).
 */
describe("Node server: a body that arrives after an early answer", () => {
  const azurite = useAzurite();
  let port: number;
  let close: () => Promise<void>;

  before(async () => {
    const app = await createTestApp(azurite().connectionString, { STOWAGE_ADMIN_PASSWORD: "early-answer-pw" });
    await app.prepare();
    const server = createNodeServer(app.handle, {
      headersTimeoutMs: 5000,
      idleTimeoutMs: 5000,
      minBodyBytesPerSecond: 1,
      maxConnections: 100,
      maxConnectionsPerAddress: 20,
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
    close = () => new Promise((resolve) => server.close(() => resolve()).closeAllConnections());
  });
  after(() => close());

  it("answers 401, reads the late body, and keeps serving", async () => {
    const body = Buffer.from(JSON.stringify({ schemaVersion: 2 }));
    const socket = await open(port);
    const answered = new Promise<string>((resolve) => socket.once("data", (chunk: Buffer) => resolve(String(chunk))));
    socket.write(
      `PUT /v2/late/app/manifests/v1 HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
        `Content-Type: application/vnd.oci.image.manifest.v1+json\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    assert.match(await answered, /^HTTP\/1\.1 401 /);
    socket.write(body); // only now: the request ends after its answer was given
    await new Promise((resolve) => setTimeout(resolve, 200)); // let the server read it (not a timing assertion)
    socket.destroy();
    const next = await rawRequest(port, "GET /v2/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    assert.equal(next.status, 401, "the server is still up");
  });
});
