import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RegistryError } from "../../shared/registry/errors.js";
import {
  assertDigest,
  assertName,
  assertReference,
  isDigest,
  isTag,
  isUploadId,
  isValidName,
  MAX_NAME_LENGTH,
  parseDigest,
} from "../../shared/registry/references.js";

const code = (fn: () => unknown): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (error) {
    return error instanceof RegistryError ? error.code : "not a RegistryError";
  }
};

describe("references: the spec's grammar for names, tags and digests", () => {
  it("accepts repository names of lowercase components joined by slashes", () => {
    for (const name of ["a", "library/ubuntu", "team/app-1/web", "a.b_c__d--e", "0/1/2"]) {
      assert.ok(isValidName(name), name);
    }
  });

  it("refuses names with capitals, empty or dotted components, separators at the ends, or too long", () => {
    for (const name of ["", "A", "a//b", "/a", "a/", "a/../b", "..", "a/.", "a_", "-a", "a..b", "a b", "a%2fb", "é"]) {
      assert.equal(isValidName(name), false, name);
      assert.equal(
        code(() => assertName(name)),
        "NAME_INVALID",
        name,
      );
    }
    assert.ok(isValidName("a".repeat(MAX_NAME_LENGTH)));
    assert.equal(isValidName("a".repeat(MAX_NAME_LENGTH + 1)), false);
  });

  it("accepts tags of up to 128 word characters, dots and dashes, not starting with either", () => {
    for (const tag of ["latest", "v1.2.3", "_x", "A-b_c.d", "x".repeat(128)]) assert.ok(isTag(tag), tag);
    for (const tag of ["", ".x", "-x", "x".repeat(129), "a:b", "a/b", "a b"]) {
      assert.equal(isTag(tag), false, tag);
    }
  });

  it("parses sha256 and sha512 digests, and tells malformed ones from unsupported algorithms", () => {
    const hex = "a".repeat(64);
    assert.deepEqual(parseDigest(`sha256:${hex}`), { algorithm: "sha256", hex });
    assert.equal(parseDigest(`sha512:${"b".repeat(128)}`).algorithm, "sha512");
    for (const bad of [
      `sha256:${"a".repeat(63)}`,
      `sha256:${"A".repeat(64)}`,
      "sha256:",
      ":abc",
      "sha256",
      `SHA256:${hex}`,
    ]) {
      assert.equal(
        code(() => parseDigest(bad)),
        "DIGEST_INVALID",
        bad,
      );
    }
    assert.equal(
      code(() => parseDigest("md5:d41d8cd98f00b204e9800998ecf8427e")),
      "UNSUPPORTED",
    );
    assert.equal(assertDigest(`sha256:${hex}`), `sha256:${hex}`);
  });

  it("reads a reference as a digest when it has a colon, otherwise as a tag", () => {
    assert.ok(isDigest(`sha256:${"a".repeat(64)}`));
    assert.equal(isDigest("latest"), false);
    assert.equal(assertReference("latest"), "latest");
    assert.equal(
      code(() => assertReference("bad!tag")),
      "TAG_INVALID",
    );
    assert.equal(
      code(() => assertReference("sha256:short")),
      "DIGEST_INVALID",
    );
  });

  it("knows upload ids only as the 32 hex digits it hands out", () => {
    assert.ok(isUploadId("0123456789abcdef0123456789abcdef"));
    for (const id of ["", "0123", "0123456789ABCDEF0123456789ABCDEF", "../../etc/passwd", "g".repeat(32)]) {
      assert.equal(isUploadId(id), false, id);
    }
  });
});
