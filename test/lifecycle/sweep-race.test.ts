import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { sha256 } from "../helpers/content.js";
import { useAzurite } from "../helpers/azurite.js";
import { bodyBytes, bytes, OCI_MANIFEST } from "../protocol/support.js";
import { deleteManifest, lifecycleApp, type LifecycleApp } from "./support.js";

const ROUNDS = 10;
const PUSHERS = 4;
const ATTEMPTS = 12;
/** Layers every push re-uses; each is garbage (no manifest) whenever a sweep looks. */
const LAYERS = Array.from({ length: 6 }, (_, i) => `garbage layer ${i} `.repeat(50));

/**
 * Pushes that re-use "garbage" blobs (by mount, by uploading the same bytes again, or by the
 * link the repository still has) run while sweeps with a grace period of 0 run back to back.
 * A push may be told to retry (MANIFEST_BLOB_UNKNOWN, BLOB_UPLOAD_INVALID); none that was
 * acknowledged may ever reference a missing blob.
 */
describe("Garbage collection: pushes racing sweeps (grace 0)", () => {
  const azurite = useAzurite();

  it("every acknowledged manifest and every blob it references pulls at the end", async () => {
    const { app } = await lifecycleApp(azurite().connectionString);
    for (const layer of LAYERS) assert.equal(await upload(app, "race/src", layer), 201);

    const acknowledged = new Map<string, { repository: string; parts: string[] }>();
    const deleted = new Set<string>();
    let sweeps = 0;
    let sweptBlobs = 0;
    let claimed = 0;
    const sweep = async () => {
      const report = await app.lifecycle.collectGarbage({ graceMs: 0 });
      sweeps++;
      sweptBlobs += report.sweep.blobs.count;
      claimed += report.sweep.claimed;
    };

    let retries = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // a sweep (or two) in the middle of every round's pushes; retries come after it
      await Promise.all([
        sweep().then(() => (round % 2 === 0 ? sweep() : undefined)),
        ...Array.from({ length: PUSHERS }, async (_, p) => {
          const repository = `race/p${p}`;
          const parts = [
            `config ${round}/${p}`,
            LAYERS[(round + p) % LAYERS.length],
            LAYERS[(round * 3 + p) % LAYERS.length],
          ];
          for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
            const digest = await pushReusing(app, repository, parts as string[], round + attempt + p);
            if (digest) {
              acknowledged.set(digest, { repository, parts: parts as string[] });
              return;
            }
            retries++;
          }
          assert.fail(`push ${round}/${p} kept being refused`);
        }),
      ]);
      // make garbage again: delete half of what was pushed two rounds ago
      for (const [digest, { repository }] of acknowledged) {
        if (deleted.size >= (round * PUSHERS) / 2) break;
        if (deleted.has(digest)) continue;
        await deleteManifest(app, repository, digest);
        deleted.add(digest);
      }
    }
    await app.lifecycle.collectGarbage({ graceMs: 0 });
    console.log(
      `race: ${sweeps} sweeps deleted ${sweptBlobs} blobs, ${claimed} claimed back by pushes, ${retries} push retries`,
    );
    assert.ok(sweeps >= 2, "sweeps ran during the pushes");

    for (const [digest, { repository, parts }] of acknowledged) {
      if (deleted.has(digest)) continue;
      const manifest = await app.fetch(`/v2/${repository}/manifests/${digest}`);
      assert.equal(manifest.status, 200, `manifest ${repository}@${digest}`);
      await manifest.arrayBuffer();
      for (const part of parts) {
        const blob = await app.fetch(`/v2/${repository}/blobs/${sha256(part)}`);
        assert.equal(blob.status, 200, `blob of ${repository}@${digest}`);
        assert.equal((await bodyBytes(blob)).toString(), part);
      }
    }
  });
});

/** POST ?digest= with the whole blob; the status. */
async function upload(app: LifecycleApp, repository: string, part: string): Promise<number> {
  const response = await app.fetch(`/v2/${repository}/blobs/uploads/?digest=${sha256(part)}`, {
    method: "POST",
    body: bytes(part),
  });
  const text = await response.text();
  assert.ok([201, 400].includes(response.status), `upload: ${response.status} ${text}`);
  return response.status;
}

/**
 * One push attempt re-using blobs three ways (by `way`); the manifest digest when the
 * registry acknowledged it, undefined when it said to retry.
 */
async function pushReusing(app: LifecycleApp, repository: string, parts: string[], way: number) {
  for (const [i, part] of parts.entries()) {
    const digest = sha256(part);
    const how = (way + i) % 3;
    if (how === 0) {
      const mount = await app.fetch(`/v2/${repository}/blobs/uploads/?mount=${digest}&from=race/src`, {
        method: "POST",
      });
      await mount.arrayBuffer();
      if (mount.status === 201) continue; // mounted; 202 means not mountable (collected): upload instead
    } else if (how === 2) {
      const head = await app.fetch(`/v2/${repository}/blobs/${digest}`, { method: "HEAD" });
      if (head.status === 200) continue; // the repository still links it: a client skips the upload
    }
    const status = await upload(app, repository, part);
    if (status === 400) return undefined; // BLOB_UPLOAD_INVALID: collected under the upload, retry
    assert.equal(status, 201);
  }
  // keep race/src linking the layers, so mounts keep finding something to re-use
  if (way % 2 === 0) for (const part of parts.slice(1)) await upload(app, "race/src", part);
  const descriptor = (part: string, mediaType: string) => ({ mediaType, digest: sha256(part), size: part.length });
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: descriptor(parts[0] as string, "application/vnd.oci.image.config.v1+json"),
    layers: parts.slice(1).map((part) => descriptor(part, "application/vnd.oci.image.layer.v1.tar")),
  });
  const response = await app.fetch(`/v2/${repository}/manifests/${sha256(manifest)}`, {
    method: "PUT",
    body: bytes(manifest),
    headers: { "Content-Type": OCI_MANIFEST },
  });
  const text = await response.text();
  if (response.status === 404 && text.includes("MANIFEST_BLOB_UNKNOWN")) return undefined;
  assert.equal(response.status, 201, text);
  return sha256(manifest);
}
