import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { mapLimit } from "../../shared/lib/map-limit.js";

describe("mapLimit: bounded fan-out", () => {
  it("never has more than the limit in flight, and keeps the items' order", async () => {
    let inFlight = 0;
    let peak = 0;
    const results = await mapLimit(
      Array.from({ length: 200 }, (_, i) => i),
      16,
      async (i) => {
        peak = Math.max(peak, ++inFlight);
        await new Promise((resolve) => setImmediate(resolve));
        inFlight--;
        return i * 2;
      },
    );
    assert.equal(peak, 16);
    assert.deepEqual(
      results,
      Array.from({ length: 200 }, (_, i) => i * 2),
    );
  });

  it("rejects with the first failure and starts nothing new after it", async () => {
    let started = 0;
    await assert.rejects(
      mapLimit([1, 2, 3, 4, 5, 6], 2, async (i) => {
        started++;
        if (i === 2) throw new Error("boom");
        await new Promise((resolve) => setImmediate(resolve));
      }),
      /boom/,
    );
    assert.ok(started < 6, `started ${started}`);
  });

  it("handles an empty list", async () => {
    assert.deepEqual(await mapLimit([], 4, async () => 1), []);
  });
});
