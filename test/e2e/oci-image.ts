import { createHash, randomBytes } from "node:crypto";
import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
export const OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export interface OciImage {
  /** The OCI image layout directory (usable as `oci:DIR:TAG` by skopeo). */
  dir: string;
  tag: string;
  /** sha256 of the manifest bytes: what a registry must answer for the pushed tag. */
  manifestDigest: string;
  manifest: Buffer;
  config: Descriptor;
  layers: Descriptor[];
  /** Every blob (config, layers, manifest) by digest, with its bytes. */
  blobs: Map<string, Buffer>;
}

export interface OciImageOptions {
  tag?: string;
  /** Random bytes per layer, in KiB. */
  layerKiB?: number;
  layerCount?: number;
}

export function sha256(data: Uint8Array): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

/** The platform the image claims, so daemons on this machine accept it without complaint. */
function architecture(): string {
  const map: Record<string, string> = {
    x64: "amd64",
    arm64: "arm64",
    arm: "arm",
    ppc64: "ppc64le",
    s390x: "s390x",
    riscv64: "riscv64",
  };
  return map[process.arch] ?? process.arch;
}

/**
 * Writes a small OCI image layout with random layers (each a gzip'd tar holding a text file and
 * a random file), so every run uploads fresh blobs that no client cache can turn into mounts.
 */
export async function writeOciLayout(dir: string, options: OciImageOptions = {}): Promise<OciImage> {
  const tag = options.tag ?? "1";
  const layerKiB = options.layerKiB ?? 256;
  const layerCount = options.layerCount ?? 2;
  const blobDir = join(dir, "blobs", "sha256");
  await mkdir(blobDir, { recursive: true });
  const blobs = new Map<string, Buffer>();
  const put = async (data: Buffer): Promise<{ digest: string; size: number }> => {
    const digest = sha256(data);
    await writeFile(join(blobDir, digest.slice("sha256:".length)), data);
    blobs.set(digest, data);
    return { digest, size: data.length };
  };

  const layers: Descriptor[] = [];
  const diffIds: string[] = [];
  for (let i = 0; i < layerCount; i++) {
    const raw = tar([
      { name: `hello${i}.txt`, data: Buffer.from(`hello registry ${i}\n`) },
      { name: "data/", type: "dir" },
      { name: `data/random${i}.bin`, data: randomBytes(layerKiB * 1024) },
    ]);
    diffIds.push(sha256(raw));
    layers.push({ mediaType: OCI_LAYER_GZIP, ...(await put(gzipSync(raw, { level: 1 }))) });
  }

  const created = "2024-01-01T00:00:00Z";
  const configJson = {
    architecture: architecture(),
    os: "linux",
    created,
    config: { Cmd: ["/hello0.txt"] },
    rootfs: { type: "layers", diff_ids: diffIds },
    history: layers.map(() => ({ created, created_by: "stowage e2e oci-image.ts" })),
  };
  const config: Descriptor = { mediaType: OCI_CONFIG, ...(await put(Buffer.from(JSON.stringify(configJson)))) };
  const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config, layers }));
  const { digest: manifestDigest, size: manifestSize } = await put(manifest);

  const index = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [
      {
        mediaType: OCI_MANIFEST,
        digest: manifestDigest,
        size: manifestSize,
        annotations: { "org.opencontainers.image.ref.name": tag },
      },
    ],
  };
  await writeFile(join(dir, "index.json"), JSON.stringify(index));
  await writeFile(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  return { dir, tag, manifestDigest, manifest, config, layers, blobs };
}

/** The OCI layout as an `oci-archive` tarball (what `ctr images import` and `podman load` read). */
export async function writeOciArchive(image: OciImage, file: string): Promise<void> {
  const entries: TarEntry[] = [
    { name: "oci-layout", data: await readFile(join(image.dir, "oci-layout")) },
    { name: "index.json", data: await readFile(join(image.dir, "index.json")) },
    { name: "blobs/", type: "dir" },
    { name: "blobs/sha256/", type: "dir" },
  ];
  for (const name of (await readdir(join(image.dir, "blobs", "sha256"))).sort()) {
    entries.push({ name: `blobs/sha256/${name}`, data: await readFile(join(image.dir, "blobs", "sha256", name)) });
  }
  await writeFile(file, tar(entries));
}

export interface TarEntry {
  /** Path inside the archive, at most 100 bytes (no long-name extensions). */
  name: string;
  type?: "file" | "dir";
  data?: Buffer;
  mode?: number;
}

/** A minimal ustar writer: regular files and directories, owned by root, mtime 0. */
export function tar(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const type = entry.type ?? "file";
    const data = type === "file" ? (entry.data ?? Buffer.alloc(0)) : Buffer.alloc(0);
    parts.push(tarHeader(entry.name, type, data.length, entry.mode ?? (type === "dir" ? 0o755 : 0o644)));
    parts.push(data);
    const pad = (512 - (data.length % 512)) % 512;
    if (pad) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(1024)); // two zero blocks end the archive
  return Buffer.concat(parts);
}

function tarHeader(name: string, type: "file" | "dir", size: number, mode: number): Buffer {
  const header = Buffer.alloc(512);
  if (Buffer.byteLength(name) > 100) throw new Error(`tar entry name too long: ${name}`);
  const octal = (value: number, offset: number, length: number) => {
    header.write(value.toString(8).padStart(length - 1, "0") + "\0", offset, length, "ascii");
  };
  header.write(name, 0, 100, "utf8");
  octal(mode, 100, 8);
  octal(0, 108, 8); // uid
  octal(0, 116, 8); // gid
  octal(size, 124, 12);
  octal(0, 136, 12); // mtime
  header.write(type === "dir" ? "5" : "0", 156, 1, "ascii");
  header.write("ustar\0", 257, 6, "ascii");
  header.write("00", 263, 2, "ascii");
  header.write("root", 265, 32, "ascii");
  header.write("root", 297, 32, "ascii");
  header.fill(" ", 148, 156); // the checksum is computed with its own field as spaces
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8, "ascii");
  return header;
}
