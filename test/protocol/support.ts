import assert from "node:assert/strict";
import { sha256 } from "../helpers/content.js";
import type { TestRegistry } from "../helpers/registry.js";

/** Shared steps of the protocol suite: pushing content, and asserting the spec's error shape. */

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
export const DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
export const DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
export const EMPTY_DIGEST = sha256("");

/** Request bodies as fetch accepts them (a Buffer is a Uint8Array view). */
export function bytes(data: Uint8Array | string): Uint8Array<ArrayBuffer> {
  return typeof data === "string" ? new TextEncoder().encode(data) : new Uint8Array(data);
}

/** A request body that arrives in pieces of `piece` bytes, as a streamed client sends it. */
export function streamBody(data: Uint8Array, piece = 64 * 1024): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= data.byteLength) return controller.close();
      controller.enqueue(data.slice(offset, offset + piece));
      offset += piece;
    },
  });
}

export async function bodyBytes(response: Response): Promise<Buffer> {
  return Buffer.from(await response.arrayBuffer());
}

export interface ErrorEntry {
  code: string;
  message: string;
  detail: unknown;
}

/**
 * Asserts an error response: status, the JSON content type and the spec's body
 * `{"errors":[{code,message,detail}]}` with `code` first. Returns the entry for further checks.
 */
export async function assertError(response: Response, status: number, code: string): Promise<ErrorEntry> {
  const text = await response.text();
  assert.equal(response.status, status, `expected ${status} ${code}, got ${response.status}: ${text}`);
  assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
  const body = JSON.parse(text) as { errors: ErrorEntry[] };
  assert.ok(Array.isArray(body.errors) && body.errors.length >= 1, `no errors array in ${text}`);
  const [entry] = body.errors as [ErrorEntry];
  assert.equal(entry.code, code);
  assert.equal(typeof entry.message, "string");
  assert.ok(entry.message.length > 0, "message is empty");
  assert.ok("detail" in entry, "detail is missing");
  return entry;
}

/** Pushes a blob monolithically (POST ?digest=); returns its digest. */
export async function pushBlob(registry: TestRegistry, repository: string, data: Uint8Array | string): Promise<string> {
  const digest = sha256(data);
  const response = await registry.fetch(`/v2/${repository}/blobs/uploads/?digest=${digest}`, {
    method: "POST",
    body: bytes(data),
    headers: { "Content-Type": "application/octet-stream" },
  });
  assert.equal(response.status, 201, `pushing blob: ${await response.text()}`);
  return digest;
}

/** Opens an upload session; returns its Location (a path relative to the registry root). */
export async function startUpload(registry: TestRegistry, repository: string): Promise<string> {
  const response = await registry.fetch(`/v2/${repository}/blobs/uploads/`, { method: "POST" });
  assert.equal(response.status, 202, `starting upload: ${await response.text()}`);
  const location = response.headers.get("location");
  assert.ok(location, "upload session has no Location");
  return location;
}

/** Appends `location` with a query parameter, whether or not it already has a query. */
export function withQuery(location: string, query: string): string {
  return `${location}${location.includes("?") ? "&" : "?"}${query}`;
}

/** Pushes a manifest under `reference`; returns the response (already asserted 201). */
export async function pushManifest(
  registry: TestRegistry,
  repository: string,
  reference: string,
  body: string,
  mediaType: string,
): Promise<Response> {
  const response = await registry.fetch(`/v2/${repository}/manifests/${reference}`, {
    method: "PUT",
    body: bytes(body),
    headers: { "Content-Type": mediaType },
  });
  assert.equal(response.status, 201, `pushing manifest: ${await response.clone().text()}`);
  return response;
}

/** Pushes a config and one layer to `repository`, and an OCI image manifest over them by tag. */
export async function pushImage(
  registry: TestRegistry,
  repository: string,
  tag: string,
  seed = tag,
): Promise<{ manifest: string; digest: string }> {
  const config = JSON.stringify({ architecture: "amd64", os: "linux", seed });
  const layer = `layer of ${repository}:${seed}`;
  const configDigest = await pushBlob(registry, repository, config);
  const layerDigest = await pushBlob(registry, repository, layer);
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: configDigest,
      size: Buffer.byteLength(config),
    },
    layers: [
      { mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: layerDigest, size: Buffer.byteLength(layer) },
    ],
  });
  await pushManifest(registry, repository, tag, manifest, OCI_MANIFEST);
  return { manifest, digest: sha256(manifest) };
}

/** GETs the blob and asserts it has exactly `data`, with the right headers. */
export async function assertBlob(
  reg: TestRegistry,
  repository: string,
  digest: string,
  data: Uint8Array,
): Promise<void> {
  const response = await reg.fetch(`/v2/${repository}/blobs/${digest}`);
  assert.equal(response.status, 200, `GET blob: ${response.status}`);
  assert.equal(response.headers.get("content-length"), String(data.byteLength));
  assert.equal(response.headers.get("docker-content-digest"), digest);
  const body = await bodyBytes(response);
  assert.equal(body.byteLength, data.byteLength);
  assert.ok(body.equals(data), "downloaded bytes differ from the uploaded bytes");
}

/** A blob upload's 201: Location of the blob, and its digest. */
export function assertBlobCreated(response: Response, repository: string, digest: string): void {
  assert.equal(response.status, 201);
  assert.equal(response.headers.get("location"), `/v2/${repository}/blobs/${digest}`);
  assert.equal(response.headers.get("docker-content-digest"), digest);
}

/**
 * The Location an upload answer names: where the client goes next. It carries the upload's
 * sealed progress, so every request must use the latest one, as the spec asks.
 */
export function nextLocation(response: Response): string {
  const location = response.headers.get("location");
  assert.ok(location, `no Location in a ${response.status} answer`);
  return location;
}

/** PATCHes one chunk, declaring its Content-Range from `start`. */
export async function patchChunk(
  reg: TestRegistry,
  location: string,
  data: Uint8Array,
  start: number,
): Promise<Response> {
  return reg.fetch(location, {
    method: "PATCH",
    body: bytes(data),
    headers: {
      "Content-Type": "application/octet-stream",
      "Content-Range": `${start}-${start + data.byteLength - 1}`,
    },
  });
}

/** PATCHes a streamed body (no Content-Range, no Content-Length), as Docker does. */
export async function patchStreamed(reg: TestRegistry, location: string, data: Uint8Array): Promise<Response> {
  return reg.fetch(location, {
    method: "PATCH",
    body: streamBody(data),
    duplex: "half",
    headers: { "Content-Type": "application/octet-stream" },
  });
}
