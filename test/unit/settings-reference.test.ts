import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { settingNames } from "../../shared/app/config.js";

describe("configuration reference", () => {
  it("the README names every setting Stowage reads (operators configure from it)", () => {
    const readme = readFileSync("README.md", "utf8");
    assert.deepEqual(
      settingNames.filter((name) => !readme.includes(`\`${name}\``)),
      [],
      "settings missing from the README's configuration tables",
    );
  });
});
