import { createHash } from "node:crypto";
import { createWriteStream, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import type { Pattern } from "./pattern.js";

/** A one-layer image in an OCI image layout directory, for real clients to copy (`oci:DIR:TAG`). */
export interface OciLayout {
  dir: string;
  tag: string;
  /** `oci:DIR:TAG` */
  reference: string;
  layerDigest: string;
  layerBytes: number;
  manifestDigest: string;
}

const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";

function writeBlob(dir: string, content: string): { digest: string; size: number } {
  const hex = createHash("sha256").update(content).digest("hex");
  writeFileSync(join(dir, "blobs", "sha256", hex), content);
  return { digest: `sha256:${hex}`, size: Buffer.byteLength(content) };
}

/**
 * Writes the pattern's bytes as the image's only layer: gzip with stored (level 0) blocks, so
 * it is a real gzip layer that clients pass through as it is (they would gzip an uncompressed
 * one themselves, and time their own compressor) and nobody's CPU goes on deflate. Inside
 * is the pattern, not a tar: a copy between registries never unpacks a layer.
 */
export async function writeOciLayout(dir: string, pattern: Pattern, tag = "bench"): Promise<OciLayout> {
  const blobs = join(dir, "blobs", "sha256");
  mkdirSync(blobs, { recursive: true });
  writeFileSync(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));

  const uncompressed = createHash("sha256");
  const compressed = createHash("sha256");
  let layerBytes = 0;
  const source = Readable.from(
    (function* () {
      for (const chunk of pattern.chunks()) {
        uncompressed.update(chunk);
        yield chunk;
      }
    })(),
  );
  const count = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      compressed.update(chunk);
      layerBytes += chunk.length;
      done(null, chunk);
    },
  });
  const partial = join(blobs, "layer.partial");
  await pipeline(source, createGzip({ level: 0 }), count, createWriteStream(partial));
  const layerHex = compressed.digest("hex");
  renameSync(partial, join(blobs, layerHex));
  const layer = { digest: `sha256:${layerHex}`, size: layerBytes };

  const config = writeBlob(
    dir,
    JSON.stringify({
      architecture: "amd64",
      os: "linux",
      rootfs: { type: "layers", diff_ids: [`sha256:${uncompressed.digest("hex")}`] },
    }),
  );
  const manifest = writeBlob(
    dir,
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", ...layer }],
    }),
  );
  writeFileSync(
    join(dir, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [{ mediaType: OCI_MANIFEST, ...manifest, annotations: { "org.opencontainers.image.ref.name": tag } }],
    }),
  );
  return {
    dir,
    tag,
    reference: `oci:${dir}:${tag}`,
    layerDigest: layer.digest,
    layerBytes,
    manifestDigest: manifest.digest,
  };
}
