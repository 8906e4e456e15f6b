import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { bytesStream, takeBytes } from "../../shared/lib/bytes-stream.js";

describe("bytesStream (bytes in memory as a response body)", () => {
  const bytes = new TextEncoder().encode('{"schemaVersion":2}');

  it("reads like any body (what the Functions adapter and fetch consumers see)", async () => {
    const response = new Response(bytesStream(bytes));
    assert.deepEqual(new Uint8Array(await response.arrayBuffer()), bytes);
  });

  it("hands its bytes to a Node writer while unread, and never once a reader holds it", async () => {
    const stream = bytesStream(bytes);
    assert.equal(takeBytes(stream), bytes);
    const reader = stream.getReader();
    assert.equal(takeBytes(stream), undefined);
    assert.deepEqual((await reader.read()).value, bytes);
    assert.equal((await reader.read()).done, true);
  });

  it("knows nothing of other streams", () => {
    assert.equal(takeBytes(new Response("{}").body), undefined);
    assert.equal(takeBytes(null), undefined);
  });
});
