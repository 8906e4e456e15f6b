import { createHash, randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";

/**
 * The content the OCI conformance suite pushes, built in the same shapes as its Go structs
 * (marshalled with tab indentation, field order kept), with fresh random content per run.
 */

export const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
export const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
const OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip";
const OCI_EMPTY = "application/vnd.oci.empty.v1+json";

export function sha256(data: Uint8Array | string): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

export interface TestBlob {
  content: Buffer;
  digest: string;
  /** Content-Length of the content, as a string (what the suite sets the header to). */
  length: string;
}

function blobOf(content: Buffer | string): TestBlob {
  const data = Buffer.from(content);
  return { content: data, digest: sha256(data), length: String(data.byteLength) };
}

interface DescriptorFields {
  mediaType: string;
  blob: TestBlob;
  data?: Buffer;
  extra?: Buffer;
}

/**
 * A descriptor as the suite marshals it: its Go struct has `newUnspecifiedField` without
 * omitempty, so every descriptor carries the field (null when unset), and the config one also
 * carries `data` (the config bytes, base64) to exercise unknown and optional fields.
 */
function descriptor({ mediaType, blob, data, extra }: DescriptorFields): object {
  return {
    mediaType,
    digest: blob.digest,
    size: blob.content.byteLength,
    ...(data ? { data: data.toString("base64") } : {}),
    newUnspecifiedField: extra ? extra.toString("base64") : null,
  };
}

function marshal(value: object): Buffer {
  return Buffer.from(JSON.stringify(value, null, "\t"));
}

/** Letters of the random config author that makes each run's config digests unique. */
function randomAuthor(): string {
  const letters = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-";
  return Array.from(randomBytes(16), (b) => letters[b % letters.length]).join("");
}

export interface ChunkedBlob extends TestBlob {
  chunk1: Buffer;
  chunk2: Buffer;
  /** Content-Range of each chunk: `0-21` and `22-41` for the default 42 bytes. */
  range1: string;
  range2: string;
}

/** A random blob cut in two after its middle byte (size/2 + 1 bytes, then the rest). */
export function chunkedBlob(size: number): ChunkedBlob {
  const blob = blobOf(randomBytes(size));
  const cut = Math.floor(size / 2) + 1;
  return {
    ...blob,
    chunk1: blob.content.subarray(0, cut),
    chunk2: blob.content.subarray(cut),
    range1: `0-${cut - 1}`,
    range2: `${cut}-${size - 1}`,
  };
}

export interface ArtifactManifest extends TestBlob {
  /** The value of the one annotation (undefined for the artifact that has none). */
  annotation?: string;
}

/** Everything one run of the suite pushes; fresh random content per run, as the suite has. */
export class SuiteData {
  static readonly annotationKey = "org.opencontainers.conformance.test";
  readonly artifactTypeA = "application/vnd.stowage.conformance.type-a";
  readonly artifactTypeB = "application/vnd.stowage.conformance.type-b";
  readonly artifactTypeIndex = "application/vnd.stowage.conformance.index";

  /** One config per workflow slot (the suite makes more; it uses 0 to 4). */
  readonly configs: TestBlob[];
  /** A small gzip layer, shared by every image manifest. */
  readonly layer: TestBlob;
  /** Image manifests over configs[i] and the layer; [4] is the referrers' subject, [3] is never pushed before discovery. */
  readonly manifests: TestBlob[];
  /** An image manifest with `layers: []` and no `mediaType` field, over configs[1]. */
  readonly emptyLayerManifest: TestBlob;
  readonly blobA: TestBlob;
  blobB: ChunkedBlob;
  /** A digest nothing is stored under: sha256("hello world"). */
  readonly dummyDigest = sha256("hello world");
  /** A tag that is not even valid, used as "a manifest that does not exist". */
  readonly nonexistentManifest = ".INVALID_MANIFEST_NAME";
  readonly emptyJson = blobOf("{}");
  readonly refBlobA = blobOf("conformance reference payload A");
  readonly refBlobB = blobOf("conformance reference payload B, pushed after the subject");
  /** Subject manifests[4]; config media type = artifactTypeA, layer = empty JSON. */
  readonly refsAConfig: ArtifactManifest;
  readonly refsBConfig: ArtifactManifest;
  /** Subject manifests[4]; artifactType set, config = empty JSON, layer = refBlobA/B. */
  readonly refsALayer: ArtifactManifest;
  readonly refsBLayer: ArtifactManifest;
  /** Like refsBLayer but its subject is manifests[3], not pushed when it is; no annotations. */
  readonly refsCLayer: ArtifactManifest;
  /** An image index with artifactType and subject manifests[4], listing refsAConfig and refsALayer. */
  readonly refsIndex: ArtifactManifest;

  constructor() {
    this.configs = Array.from({ length: 5 }, () =>
      blobOf(
        marshal({
          author: randomAuthor(),
          architecture: "amd64",
          os: "linux",
          rootfs: { type: "layers", diff_ids: [] },
        }),
      ),
    );
    this.layer = blobOf(gzipSync(Buffer.from("conformance layer: a file's worth of bytes\n")));
    const configDescriptor = (config: TestBlob) =>
      descriptor({ mediaType: OCI_CONFIG, blob: config, data: config.content, extra: Buffer.from("hello world") });
    this.manifests = this.configs.map((config) =>
      blobOf(
        marshal({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          config: configDescriptor(config),
          layers: [descriptor({ mediaType: OCI_LAYER, blob: this.layer })],
        }),
      ),
    );
    this.emptyLayerManifest = blobOf(
      marshal({ schemaVersion: 2, config: configDescriptor(this.configs[1] as TestBlob), layers: [] }),
    );
    this.blobA = blobOf(randomBytes(42));
    this.blobB = chunkedBlob(42);

    const subject = descriptor({ mediaType: OCI_MANIFEST, blob: this.manifests[4] as TestBlob });
    const missingSubject = descriptor({ mediaType: OCI_MANIFEST, blob: this.manifests[3] as TestBlob });
    const emptyConfig = descriptor({ mediaType: OCI_EMPTY, blob: this.emptyJson });
    const artifact = (value: object, annotation?: string): ArtifactManifest => {
      const annotations = annotation === undefined ? {} : { annotations: { [SuiteData.annotationKey]: annotation } };
      return { ...blobOf(marshal({ ...value, ...annotations })), ...(annotation === undefined ? {} : { annotation }) };
    };
    const configArtifact = (type: string, blob: TestBlob, annotation: string) =>
      artifact(
        {
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          config: descriptor({ mediaType: type, blob }),
          layers: [emptyConfig],
          subject,
        },
        annotation,
      );
    const layerArtifact = (type: string, blob: TestBlob, subjectOf: object, annotation?: string) =>
      artifact(
        {
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          artifactType: type,
          config: emptyConfig,
          layers: [descriptor({ mediaType: type, blob })],
          subject: subjectOf,
        },
        annotation,
      );
    this.refsAConfig = configArtifact(this.artifactTypeA, this.refBlobA, "test config a");
    this.refsBConfig = configArtifact(this.artifactTypeB, this.refBlobB, "test config b");
    this.refsALayer = layerArtifact(this.artifactTypeA, this.refBlobA, subject, "test layer a");
    this.refsBLayer = layerArtifact(this.artifactTypeB, this.refBlobB, subject, "test layer b");
    this.refsCLayer = layerArtifact(this.artifactTypeB, this.refBlobB, missingSubject);
    this.refsIndex = artifact(
      {
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        artifactType: this.artifactTypeIndex,
        manifests: [
          descriptor({ mediaType: OCI_MANIFEST, blob: this.refsAConfig }),
          descriptor({ mediaType: OCI_MANIFEST, blob: this.refsALayer }),
        ],
        subject,
      },
      "test index",
    );
  }

  /** The annotation value each referrer of manifests[4] must be listed with. */
  annotationOf(digest: string): string | undefined {
    const all = [this.refsAConfig, this.refsBConfig, this.refsALayer, this.refsBLayer, this.refsIndex];
    return all.find((m) => m.digest === digest)?.annotation;
  }
}
