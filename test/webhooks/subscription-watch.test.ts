import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { whenSubscribed } from "../../shared/webhooks/subscription-watch.js";

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("webhooks: the pollers wait for a subscription", () => {
  it("finds one that exists at once, with one read", async () => {
    let reads = 0;
    let found = 0;
    whenSubscribed(async () => (reads++, ["a"]), { intervalMs: 10, found: () => found++ });
    await settle(50);
    assert.deepEqual([reads, found], [1, 1]);
  });

  it("looks again every interval until one appears, then stops looking", async () => {
    let list: string[] = [];
    let reads = 0;
    let found = 0;
    whenSubscribed(async () => (reads++, list), { intervalMs: 20, found: () => found++ });
    await settle(70);
    assert.equal(found, 0);
    assert.ok(reads >= 2, `looked ${reads} times`);
    list = ["late"];
    await settle(60);
    assert.equal(found, 1);
    const after = reads;
    await settle(60);
    assert.equal(reads, after, "no more reads once found");
  });

  it("a list that cannot be read counts as found (the pollers run, as before)", async () => {
    let found = 0;
    whenSubscribed(() => Promise.reject(new Error("storage down")), { intervalMs: 10, found: () => found++ });
    await settle(30);
    assert.equal(found, 1);
  });

  it("stopped, it neither finds nor looks again", async () => {
    let reads = 0;
    let found = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const watch = whenSubscribed(
      async () => {
        reads++;
        await gate;
        return ["a"];
      },
      { intervalMs: 10, found: () => found++ },
    );
    watch.stop();
    release();
    await settle(40);
    assert.deepEqual([reads, found], [1, 0]);
  });
});
