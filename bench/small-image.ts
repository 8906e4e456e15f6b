import { randomBytes } from "node:crypto";
import type { Agent } from "node:http";
import { call, expectStatus, keepAliveAgent, location, withQuery } from "./http.js";
import { sha256 } from "./pattern.js";
import type { Target } from "./target.js";
import { msSince, now } from "./timing.js";

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
/** What Docker sends when it fetches a manifest. */
export const MANIFEST_ACCEPT = [
  OCI_MANIFEST,
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
].join(", ");

/**
 * How each blob goes up:
 * - docker: HEAD (404) -> POST -> PATCH (chunked body) -> PUT ?digest= (Docker, podman, skopeo);
 * - post-put: HEAD (404) -> POST -> PUT ?digest= with the body (containerd);
 * - monolithic: POST ?digest= with the body (one request; optional in the spec).
 */
export type UploadMode = "docker" | "post-put" | "monolithic";
export const UPLOAD_MODES: UploadMode[] = ["docker", "post-put", "monolithic"];

export class UnsupportedError extends Error {
  override name = "UnsupportedError";
}

export interface ImagePush {
  mode: UploadMode;
  seconds: number;
  layers: number;
  layerBytes: number;
  requests: number;
  manifestDigest: string;
  tag: string;
}

export interface Blob {
  data: Buffer;
  digest: string;
}

const TIMEOUT = 60_000;

export async function pushBlob(
  target: Target,
  repository: string,
  blob: Blob,
  mode: UploadMode,
  agent: Agent,
): Promise<number> {
  const base = `${target.url}/v2/${repository}/blobs`;
  if (mode === "monolithic") {
    const reply = await call(`${base}/uploads/?digest=${encodeURIComponent(blob.digest)}`, {
      method: "POST",
      headers: { "Content-Type": "application/octet-stream" },
      body: blob.data,
      agent,
      timeoutMs: TIMEOUT,
    });
    if (reply.status === 202) throw new UnsupportedError("single-request POST ?digest= not supported (answered 202)");
    expectStatus(reply, 201, "POST ?digest=");
    return 1;
  }
  expectStatus(await call(`${base}/${blob.digest}`, { method: "HEAD", agent, timeoutMs: TIMEOUT }), 404, "HEAD blob");
  const opened = expectStatus(
    await call(`${base}/uploads/`, { method: "POST", agent, timeoutMs: TIMEOUT }),
    202,
    "POST upload",
  );
  let upload = location(opened, target.url, "POST upload");
  let requests = 2;
  if (mode === "docker") {
    const patched = await call(upload, {
      method: "PATCH",
      headers: { "Content-Type": "application/octet-stream" },
      body: [blob.data], // an iterable: sent chunked, as Docker does
      agent,
      timeoutMs: TIMEOUT,
    });
    upload = location(expectStatus(patched, 202, "PATCH"), target.url, "PATCH");
    requests++;
  }
  const finish = withQuery(upload, "digest", blob.digest);
  const put =
    mode === "docker"
      ? await call(finish, { method: "PUT", agent, timeoutMs: TIMEOUT })
      : await call(finish, {
          method: "PUT",
          headers: { "Content-Type": "application/octet-stream" },
          body: blob.data,
          agent,
          timeoutMs: TIMEOUT,
        });
  expectStatus(put, 201, "PUT ?digest=");
  return requests + 1;
}

/**
 * Pushes an image of `count` random layers of `size` bytes plus a config, `concurrency` blobs
 * at a time (Docker and containerd upload 3-4 layers in parallel), then its manifest by tag.
 * The layers are made before the clock starts.
 */
export async function pushSmallImage(
  target: Target,
  repository: string,
  options: { count: number; size: number; concurrency: number; mode: UploadMode },
): Promise<ImagePush> {
  const layers: Blob[] = Array.from({ length: options.count }, () => {
    const data = randomBytes(options.size);
    return { data, digest: sha256(data) };
  });
  const configData = Buffer.from(
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) },
      config: {},
    }),
  );
  const config: Blob = { data: configData, digest: sha256(configData) };
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: {
        mediaType: "application/vnd.oci.image.config.v1+json",
        digest: config.digest,
        size: config.data.length,
      },
      layers: layers.map((l) => ({
        mediaType: "application/vnd.oci.image.layer.v1.tar+gzip",
        digest: l.digest,
        size: l.data.length,
      })),
    }),
  );
  const manifestDigest = sha256(manifest);
  const tag = "v1";

  const agent = keepAliveAgent(options.concurrency);
  try {
    const started = now();
    const queue = [config, ...layers];
    let next = 0;
    let requests = 0;
    const worker = async () => {
      while (next < queue.length) {
        const blob = queue[next++] as Blob;
        requests += await pushBlob(target, repository, blob, options.mode, agent);
      }
    };
    await Promise.all(Array.from({ length: options.concurrency }, worker));
    const put = await call(`${target.url}/v2/${repository}/manifests/${tag}`, {
      method: "PUT",
      headers: { "Content-Type": OCI_MANIFEST },
      body: manifest,
      agent,
      timeoutMs: TIMEOUT,
    });
    expectStatus(put, 201, "PUT manifest");
    requests++;
    const seconds = msSince(started) / 1000;
    const answered = put.headers["docker-content-digest"];
    if (answered !== manifestDigest) throw new Error(`PUT manifest: digest ${answered}, expected ${manifestDigest}`);
    return {
      mode: options.mode,
      seconds,
      layers: options.count,
      layerBytes: options.count * options.size,
      requests,
      manifestDigest,
      tag,
    };
  } finally {
    agent.destroy();
  }
}
