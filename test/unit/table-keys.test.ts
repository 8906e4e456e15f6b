import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  MAX_KEY_LENGTH,
  decodeKey,
  encodeKey,
  freeFormKey,
  odata,
  prefixEnd,
} from "../../shared/storage/azure/table-keys.js";

describe("table keys: repository names as PartitionKey/RowKey", () => {
  const names = [
    "a",
    "a-b",
    "a.b",
    "a/b",
    "a0",
    "a_b",
    "ab",
    "team/app",
    "team/app-1",
    "team/app.v2",
    "team/app/web",
    "team-x/app",
  ];

  it("never contains a character Table keys forbid, and decodes back to the name", () => {
    for (const name of names) {
      const key = encodeKey(name);
      assert.doesNotMatch(key, /[/\\#?]/, name);
      assert.equal(decodeKey(key), name);
    }
  });

  it("keeps ordinal order, so a RowKey range query lists repositories in lexical order", () => {
    const byName = [...names].sort();
    const byKey = names.map(encodeKey).sort().map(decodeKey);
    assert.deepEqual(byKey, byName);
  });

  it("gives the smallest string after every string with a prefix, and quotes OData literals", () => {
    assert.equal(prefixEnd("tag:"), "tag;");
    assert.ok("tag:zzzz" < prefixEnd("tag:") && prefixEnd("tag:") <= "tah");
    assert.equal(odata("it's"), "'it''s'");
  });
});

describe("free-form keys (Azure Stack Hub: keys of at most 400 characters)", () => {
  it("are URI-encoded while short, so no character tables refuse occurs", () => {
    assert.equal(freeFormKey("pair:alice|10.0.0.1"), "pair%3Aalice%7C10.0.0.1");
    assert.doesNotMatch(freeFormKey("a/b\\c#d?e"), /[/\\#?]/);
  });

  it("are hashed when longer, distinct per value, and never equal to an encoded key", () => {
    const long = "x".repeat(MAX_KEY_LENGTH + 1);
    assert.ok(freeFormKey(long).length <= MAX_KEY_LENGTH);
    assert.notEqual(freeFormKey(long), freeFormKey(long + "y"));
    assert.equal(freeFormKey(long), freeFormKey(long));
    assert.match(freeFormKey(long), /^%%/);
    assert.equal(freeFormKey("x".repeat(MAX_KEY_LENGTH)).length, MAX_KEY_LENGTH);
  });
});
