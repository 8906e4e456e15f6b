import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { useAzurite } from "../helpers/azurite.js";
import { randomBlob, sha256 } from "../helpers/content.js";
import { createTestRegistry, type TestRegistry } from "../helpers/registry.js";
import {
  assertBlob,
  assertBlobCreated,
  assertError,
  bytes,
  nextLocation,
  patchChunk,
  patchStreamed,
  startUpload,
  withQuery,
} from "./support.js";

const PARAM = "_stowage_state";

/** The location with its sealed state replaced by `edit(state)`. */
function withState(location: string, edit: (state: string) => string): string {
  const url = new URL(location, "http://registry.test");
  url.searchParams.set(PARAM, edit(url.searchParams.get(PARAM) ?? ""));
  return `${url.pathname}${url.search}`;
}

/** Rewrites the JSON payload of a sealed state, keeping its key id and MAC. */
function forgePayload(state: string, change: (payload: Record<string, unknown>) => void): string {
  const [kid, payload, mac] = state.split(".") as [string, string, string];
  const fields = JSON.parse(Buffer.from(payload, "base64url").toString()) as Record<string, unknown>;
  change(fields);
  return `${kid}.${Buffer.from(JSON.stringify(fields)).toString("base64url")}.${mac}`;
}

describe("Upload state carried in the upload URL", () => {
  const azurite = useAzurite();
  let registry: TestRegistry;

  before(async () => {
    registry = await createTestRegistry(azurite().connectionString);
  });

  it("a state whose payload was changed, whose MAC is wrong, or that is missing its MAC is 404 BLOB_UPLOAD_UNKNOWN", async () => {
    const victim = randomBlob(500);
    const mine = randomBlob(500);
    const patch = await patchStreamed(registry, await startUpload(registry, "forge/one"), mine.data);
    const location = nextLocation(patch);
    // content poisoning: claim the stored bytes hash to someone else's digest
    const poisoned = withState(location, (s) => forgePayload(s, (p) => (p.d = victim.digest)));
    await assertError(
      await registry.fetch(withQuery(poisoned, `digest=${victim.digest}`), { method: "PUT" }),
      404,
      "BLOB_UPLOAD_UNKNOWN",
    );
    await assertError(await registry.fetch(`/v2/forge/one/blobs/${victim.digest}`), 404, "BLOB_UNKNOWN");
    const badMac = withState(location, (s) => `${s.slice(0, -4)}${s.endsWith("AAAA") ? "BBBB" : "AAAA"}`);
    await assertError(await registry.fetch(badMac), 404, "BLOB_UPLOAD_UNKNOWN");
    await assertError(await patchChunk(registry, badMac, bytes("x"), 500), 404, "BLOB_UPLOAD_UNKNOWN");
    const unsealed = withState(location, (s) => s.split(".").slice(0, 2).join("."));
    await assertError(await registry.fetch(unsealed, { method: "DELETE" }), 404, "BLOB_UPLOAD_UNKNOWN");
    const unknownKey = withState(location, (s) => `other${s}`);
    await assertError(await registry.fetch(unknownKey), 404, "BLOB_UPLOAD_UNKNOWN");
    // the genuine state still finishes the upload
    assertBlobCreated(
      await registry.fetch(withQuery(location, `digest=${mine.digest}`), { method: "PUT" }),
      "forge/one",
      mine.digest,
    );
  });

  it("a state sealed for one upload does not open another upload or repository", async () => {
    const data = randomBlob(100);
    const first = nextLocation(await patchStreamed(registry, await startUpload(registry, "forge/a"), data.data));
    const other = await startUpload(registry, "forge/b");
    const state = new URL(first, "http://registry.test").searchParams.get(PARAM) ?? "";
    const otherId = new URL(other, "http://registry.test").pathname.split("/").at(-1) as string;
    const firstId = new URL(first, "http://registry.test").pathname.split("/").at(-1) as string;
    const swapped = `/v2/forge/b/blobs/uploads/${otherId}?${PARAM}=${encodeURIComponent(state)}`;
    await assertError(
      await registry.fetch(withQuery(swapped, `digest=${data.digest}`), { method: "PUT" }),
      404,
      "BLOB_UPLOAD_UNKNOWN",
    );
    const moved = `/v2/forge/b/blobs/uploads/${firstId}?${PARAM}=${encodeURIComponent(state)}`;
    await assertError(await registry.fetch(moved), 404, "BLOB_UPLOAD_UNKNOWN");
  });

  it("once completed, an earlier URL can no longer change the published bytes", async () => {
    const blob = randomBlob(1000);
    const location = nextLocation(await patchStreamed(registry, await startUpload(registry, "stale/done"), blob.data));
    assertBlobCreated(
      await registry.fetch(withQuery(location, `digest=${blob.digest}`), { method: "PUT" }),
      "stale/done",
      blob.digest,
    );
    const append = await patchChunk(registry, location, bytes("tail"), 1000);
    assert.ok([404, 416].includes(append.status), `an append after completion answered ${append.status}`);
    await append.body?.cancel();
    await assertBlob(registry, "stale/done", blob.digest, blob.data);
  });

  it("a URL overtaken by a later chunk cannot complete the upload under its shorter digest", async () => {
    const head = randomBlob(800);
    const tail = randomBlob(300);
    const first = nextLocation(await patchStreamed(registry, await startUpload(registry, "stale/race"), head.data));
    const second = await patchChunk(registry, first, tail.data, 800);
    assert.equal(second.status, 202);
    const stale = await registry.fetch(withQuery(first, `digest=${head.digest}`), { method: "PUT" });
    await assertError(stale, 416, "BLOB_UPLOAD_INVALID");
    await assertError(await registry.fetch(`/v2/stale/race/blobs/${head.digest}`), 404, "BLOB_UNKNOWN");
    const whole = sha256(Buffer.concat([head.data, tail.data]));
    assertBlobCreated(
      await registry.fetch(withQuery(nextLocation(second), `digest=${whole}`), { method: "PUT" }),
      "stale/race",
      whole,
    );
  });

  it("a small first chunk (one Put Blob) is continued by later chunks and a final PUT body", async () => {
    const blob = randomBlob(5000);
    let location = await startUpload(registry, "chunks/after-put-blob");
    for (const [start, end] of [
      [0, 1000],
      [1000, 1001],
      [1001, 4000],
    ] as const) {
      const response = await patchChunk(registry, location, blob.data.subarray(start, end), start);
      assert.equal(response.status, 202);
      assert.equal(response.headers.get("range"), `0-${end - 1}`);
      location = nextLocation(response);
    }
    const status = await registry.fetch(location);
    assert.equal(status.headers.get("range"), "0-3999");
    const put = await registry.fetch(withQuery(location, `digest=${blob.digest}`), {
      method: "PUT",
      body: bytes(blob.data.subarray(4000)),
    });
    assertBlobCreated(put, "chunks/after-put-blob", blob.digest);
    await assertBlob(registry, "chunks/after-put-blob", blob.digest, blob.data);
  });

  it("a PUT retried after its answer was lost finds the upload already finished", async () => {
    const blob = randomBlob(700);
    const location = nextLocation(await patchStreamed(registry, await startUpload(registry, "retry/put"), blob.data));
    const put = () => registry.fetch(withQuery(location, `digest=${blob.digest}`), { method: "PUT" });
    assertBlobCreated(await put(), "retry/put", blob.digest);
    await assertError(await put(), 404, "BLOB_UPLOAD_UNKNOWN");
    await assertBlob(registry, "retry/put", blob.digest, blob.data);
  });
});
