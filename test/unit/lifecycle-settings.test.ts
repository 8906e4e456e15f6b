import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadConfig } from "../../shared/app/config.js";
import { parseDuration } from "../../shared/lib/duration.js";

const BASE = { STOWAGE_STORAGE_CONNECTION_STRING: "UseDevelopmentStorage=true" };

describe("garbage collection settings", () => {
  it("reads durations as seconds or with a unit", () => {
    assert.equal(parseDuration("0"), 0);
    assert.equal(parseDuration("90"), 90_000);
    assert.equal(parseDuration("90s"), 90_000);
    assert.equal(parseDuration("30m"), 1_800_000);
    assert.equal(parseDuration("6h"), 21_600_000);
    assert.equal(parseDuration("2d"), 172_800_000);
    for (const bad of ["", "soon", "-1", "1.5h", "6 hours", "h"]) assert.equal(parseDuration(bad), undefined, bad);
  });

  it("defaults to a six-hour grace period, sweeping on, no retention", () => {
    const { gc } = loadConfig(BASE);
    assert.deepEqual(gc, { graceMs: 21_600_000, sweep: true, intervalMs: 3_600_000, batchSize: 10_000, retention: [] });
  });

  it("parses retention rules and refuses malformed ones, naming the variable", () => {
    const rules = [{ repositories: "ci/*", untaggedDays: 14, keepTags: 5, tagPattern: "build-*" }];
    assert.deepEqual(loadConfig({ ...BASE, STOWAGE_RETENTION: JSON.stringify(rules) }).gc.retention, rules);
    for (const bad of [
      "not json",
      '[{"untaggedDays":1}]',
      '[{"repositories":"x","keepTags":-1}]',
      '[{"repositories":"x","typo":1}]',
    ])
      assert.throws(() => loadConfig({ ...BASE, STOWAGE_RETENTION: bad }), /STOWAGE_RETENTION/, bad);
    assert.throws(() => loadConfig({ ...BASE, STOWAGE_GC_GRACE: "soon" }), /STOWAGE_GC_GRACE/);
  });
});
