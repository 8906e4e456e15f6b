import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { SigningKeys } from "../../shared/auth/signing-keys.js";
import { HmacSealer } from "../../shared/lib/hmac-sealer.js";
import { FileSecretStore } from "../../shared/storage/local/file-secret-store.js";

/**
 * Upload URLs carry state sealed with HMAC keys derived from the signing keys: every instance
 * derives the same ones, a rotation keeps what the old key sealed openable for as long as
 * uploads live (retainSeconds), and nothing sealed for one purpose opens for another.
 */
describe("HMAC keys derived from the signing keys", () => {
  const HOUR = 3_600_000;

  function keysIn(dir: string, now: () => number) {
    return new SigningKeys(new FileSecretStore(dir), {
      secretName: "stowage-signing-key",
      tokenTtlSeconds: 300,
      retainSeconds: 24 * 3600,
      refreshSeconds: 60,
      now,
    });
  }

  it("another instance opens what one sealed; a changed payload, another purpose or a retired key do not", async () => {
    let now = Date.now();
    const dir = await mkdtemp(join(tmpdir(), "stw-seal-"));
    const one = keysIn(dir, () => now);
    const sealed = await new HmacSealer(one.macKeys("upload state")).seal('{"o":1}');
    const other = new HmacSealer(keysIn(dir, () => now).macKeys("upload state"));
    assert.equal(await other.open(sealed), '{"o":1}');
    const [kid, , mac] = sealed.split(".");
    assert.equal(await other.open(`${kid}.${Buffer.from('{"o":2}').toString("base64url")}.${mac}`), undefined);
    assert.equal(await new HmacSealer(one.macKeys("something else")).open(sealed), undefined);

    // rotated: new states use the new key, the old ones still open while uploads may live
    await one.rotate();
    const after = await new HmacSealer(one.macKeys("upload state")).seal('{"o":3}');
    assert.notEqual(after.split(".")[0], kid);
    now += 12 * HOUR;
    assert.equal(await new HmacSealer(one.macKeys("upload state")).open(sealed), '{"o":1}');
    now += 13 * HOUR;
    const late = keysIn(dir, () => now);
    assert.equal(await new HmacSealer(late.macKeys("upload state")).open(sealed), undefined, "retired with its key");
    assert.equal(await new HmacSealer(late.macKeys("upload state")).open(after), '{"o":3}');
  });
});
