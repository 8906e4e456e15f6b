import { createHash, randomBytes } from "node:crypto";

export function sha256(data: Uint8Array | string): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

export function randomBlob(size: number): { data: Buffer; digest: string } {
  const data = randomBytes(size);
  return { data, digest: sha256(data) };
}

/** An OCI image manifest over the given config and layers. */
export function imageManifest(
  config: { digest: string; size: number },
  layers: { digest: string; size: number }[],
  extra: object = {},
): string {
  return JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
    layers: layers.map((l) => ({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...l })),
    ...extra,
  });
}
