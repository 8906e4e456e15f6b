import assert from "node:assert/strict";
import { openAccess } from "../../shared/http/authorizer.js";
import { sha256 } from "../helpers/content.js";
import { createTestApp } from "../helpers/registry.js";
import { OCI_INDEX, OCI_MANIFEST, pushBlob, pushManifest } from "../protocol/support.js";

/** Shared steps of the lifecycle suite: an app whose clock tests move, and images built from named parts. */

export type LifecycleApp = Awaited<ReturnType<typeof createTestApp>>;

/**
 * An open-access app over its own storage whose clock runs `clock.ahead` ms ahead of the real
 * one (storage stamps rows with the real clock; tests move the app's past the grace period).
 */
export async function lifecycleApp(
  connectionString: string,
  env: Record<string, string> = {},
): Promise<{ app: LifecycleApp; clock: { ahead: number } }> {
  const clock = { ahead: 0 };
  const app = await createTestApp(connectionString, env, {
    now: () => Date.now() + clock.ahead,
    authorizer: openAccess,
  });
  return { app, clock };
}

/** Pushes blobs with the given contents and an image manifest over them (first = config). */
export async function pushImageOf(
  app: LifecycleApp,
  repository: string,
  reference: string,
  parts: string[],
  extra: object = {},
): Promise<string> {
  const [config, ...layers] = await Promise.all(parts.map((part) => pushBlob(app, repository, part)));
  const descriptor = (digest: string, part: string, mediaType: string) => ({
    mediaType,
    digest,
    size: Buffer.byteLength(part),
  });
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: descriptor(config as string, parts[0] as string, "application/vnd.oci.image.config.v1+json"),
    layers: layers.map((digest, i) =>
      descriptor(digest, parts[i + 1] as string, "application/vnd.oci.image.layer.v1.tar+gzip"),
    ),
    ...extra,
  });
  // an empty reference pushes by digest (untagged)
  await pushManifest(app, repository, reference || sha256(manifest), manifest, OCI_MANIFEST);
  return sha256(manifest);
}

/** The descriptor of a manifest in the repository (for `subject`). */
export async function manifestDescriptor(app: LifecycleApp, repository: string, digest: string) {
  const head = await app.fetch(`/v2/${repository}/manifests/${digest}`, { method: "HEAD" });
  assert.equal(head.status, 200);
  return { mediaType: OCI_MANIFEST, digest, size: Number(head.headers.get("content-length")) };
}

/** Pushes an index over child manifests already in the repository. */
export async function pushIndex(app: LifecycleApp, repository: string, reference: string, children: string[]) {
  const manifests = await Promise.all(children.map((digest) => manifestDescriptor(app, repository, digest)));
  const index = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests });
  await pushManifest(app, repository, reference, index, OCI_INDEX);
  return sha256(index);
}

/** HTTP status of a blob GET and a manifest GET. */
export async function blobStatus(app: LifecycleApp, repository: string, digest: string): Promise<number> {
  const response = await app.fetch(`/v2/${repository}/blobs/${digest}`);
  await response.arrayBuffer();
  return response.status;
}

export async function manifestStatus(app: LifecycleApp, repository: string, reference: string): Promise<number> {
  const response = await app.fetch(`/v2/${repository}/manifests/${reference}`);
  await response.arrayBuffer();
  return response.status;
}

export async function deleteManifest(app: LifecycleApp, repository: string, digest: string): Promise<void> {
  const response = await app.fetch(`/v2/${repository}/manifests/${digest}`, { method: "DELETE" });
  assert.equal(response.status, 202, await response.text());
}

/** Whether the blob index still has a row for the digest (the bytes are not reachable otherwise). */
export async function indexed(app: LifecycleApp, digest: string): Promise<boolean> {
  return (await app.storage.registry.metadata.getBlob(digest)) !== undefined;
}
