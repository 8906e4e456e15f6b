import assert from "node:assert/strict";
import { once } from "node:events";
import { PassThrough } from "node:stream";
import { describe, it } from "node:test";
import { webStreamOf } from "../../shared/lib/node-web-streams.js";

describe("webStreamOf (Node request body -> web stream)", () => {
  it("survives a body that ends after the stream was cancelled (an early answer, then the body drained)", async () => {
    const source = new PassThrough();
    const stream = webStreamOf(source, { keepOnCancel: true });
    await stream.cancel();
    source.end("the rest of the body");
    source.resume(); // the server drains what the client still sends
    await once(source, "end");
    // before the fix the late "end" closed the cancelled stream again: an uncaught ERR_INVALID_STATE
    assert.equal(source.readableEnded, true);
  });
});
