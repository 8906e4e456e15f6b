import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createNodeServer } from "../../shared/adapters/node-http.js";
import { createAuthRegistry } from "../auth/support.js";
import { useAzurite } from "../helpers/azurite.js";
import { open, rawRequest } from "../helpers/raw-http.js";
import { listenOnLoopback } from "../helpers/listening.js";

/**
 * An answer given before the body was even sent (a 401 to containerd's manifest PUT): the
 * body cancelled unread, and then drained when it arrives, must not take the server down.
 */
describe("node adapter: a body that arrives after its request was refused", () => {
  const azurite = useAzurite();
  let port: number;
  let close: () => Promise<void>;

  before(async () => {
    const registry = await createAuthRegistry(azurite().connectionString);
    const server = createNodeServer(registry.app.handle, {
      headersTimeoutMs: 2000,
      idleTimeoutMs: 3000,
      minBodyBytesPerSecond: 1024,
      maxConnections: 100,
      maxConnectionsPerAddress: 20,
    });
    ({ port, close } = await listenOnLoopback(server));
  });
  after(() => close());

  it("answers 401, drains the late body, and keeps serving", async () => {
    const body = '{"schemaVersion":2}';
    const socket = await open(port);
    let text = "";
    const answered = new Promise<void>((resolve) => {
      socket.on("data", (chunk: Buffer) => {
        text += chunk.toString("latin1");
        if (text.includes("\r\n\r\n")) resolve();
      });
    });
    socket.write(
      `PUT /v2/late/app/manifests/1 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n` +
        `Content-Type: application/vnd.oci.image.manifest.v1+json\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    await answered;
    assert.match(text, /^HTTP\/1\.1 401 /);
    await new Promise<void>((resolve) => socket.write(body, () => resolve()));
    // the drained body ends the request; the server is still there for the next one
    const next = await rawRequest(
      port,
      `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n\r\n`,
    );
    assert.equal(next.status, 200);
    socket.destroy();
  });
});
