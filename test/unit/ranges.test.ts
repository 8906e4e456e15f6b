import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseChunkRange, resolveByteRange } from "../../shared/http/registry/ranges.js";
import { RegistryError } from "../../shared/registry/errors.js";

const failure = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return error instanceof RegistryError ? { code: error.code, detail: error.detail } : error;
  }
  return undefined;
};

describe("ranges: Range on blob GETs, Content-Range on chunks", () => {
  it("resolves a single byte range against the blob size", () => {
    assert.deepEqual(resolveByteRange("bytes=0-9", 100), { start: 0, end: 9 });
    assert.deepEqual(resolveByteRange("bytes=90-", 100), { start: 90, end: 99 });
    assert.deepEqual(resolveByteRange("bytes=-10", 100), { start: 90, end: 99 });
    assert.deepEqual(resolveByteRange("bytes=95-200", 100), { start: 95, end: 99 }, "the end is clamped");
  });

  it("answers the whole blob (no range) when the range covers it, is malformed, or asks for several", () => {
    for (const header of [
      null,
      "bytes=0-99",
      "bytes=0-",
      "bytes=-100",
      "bytes=-500",
      "items=0-1",
      "bytes=0-1,5-6",
      "bytes=9-3",
      "bytes=-",
    ]) {
      assert.equal(resolveByteRange(header, 100), undefined, String(header));
    }
  });

  it("refuses a range that starts past the end, naming the size", () => {
    assert.deepEqual(
      failure(() => resolveByteRange("bytes=100-", 100)),
      {
        code: "RANGE_NOT_SATISFIABLE",
        detail: { size: 100 },
      },
    );
    assert.equal((failure(() => resolveByteRange("bytes=-0", 100)) as { code: string }).code, "RANGE_NOT_SATISFIABLE");
  });

  it("parses a chunk's Content-Range with or without a unit and total", () => {
    assert.deepEqual(parseChunkRange("0-99"), { start: 0, end: 99 });
    assert.deepEqual(parseChunkRange("bytes 100-199/*"), { start: 100, end: 199 });
    assert.deepEqual(parseChunkRange("bytes=200-299/1000"), { start: 200, end: 299 });
    assert.equal(parseChunkRange(null), undefined);
  });

  it("refuses a malformed or backwards Content-Range as BLOB_UPLOAD_INVALID", () => {
    for (const header of ["", "abc", "5-", "-5", "10-5", "bytes=1-2/x"]) {
      const result = header === "" ? parseChunkRange(header) : failure(() => parseChunkRange(header));
      if (header === "") assert.equal(result, undefined);
      else assert.equal((result as { code: string }).code, "BLOB_UPLOAD_INVALID", header);
    }
  });
});
