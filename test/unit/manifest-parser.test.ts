import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { RegistryError } from "../../shared/registry/errors.js";
import { parseManifest } from "../../shared/registry/manifest-parser.js";
import { DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST } from "../../shared/registry/media-types.js";

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const descriptor = (c: string, mediaType = "application/vnd.oci.image.layer.v1.tar+gzip", size = 10) => ({
  mediaType,
  digest: digest(c),
  size,
});
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const image = (extra: object = {}) => ({
  schemaVersion: 2,
  mediaType: OCI_MANIFEST,
  config: descriptor("c", "application/vnd.oci.image.config.v1+json"),
  layers: [descriptor("1"), descriptor("2")],
  ...extra,
});

function invalid(bytes: Uint8Array, contentType?: string): string {
  try {
    parseManifest(bytes, contentType);
  } catch (error) {
    assert.ok(error instanceof RegistryError);
    assert.equal(error.code, "MANIFEST_INVALID");
    return error.message;
  }
  assert.fail("parsed what should have been refused");
}

describe("manifest parser", () => {
  it("lists the blobs an image manifest needs: config, then layers", () => {
    const parsed = parseManifest(json(image()), OCI_MANIFEST);
    assert.equal(parsed.mediaType, OCI_MANIFEST);
    assert.deepEqual(
      parsed.blobs.map((d) => d.digest),
      [digest("c"), digest("1"), digest("2")],
    );
    assert.deepEqual(parsed.manifests, []);
  });

  it("lists an index's child manifests, for OCI indexes and Docker manifest lists", () => {
    for (const mediaType of [OCI_INDEX, DOCKER_MANIFEST_LIST]) {
      const parsed = parseManifest(
        json({ schemaVersion: 2, mediaType, manifests: [descriptor("a", OCI_MANIFEST)] }),
        undefined,
      );
      assert.equal(parsed.mediaType, mediaType);
      assert.deepEqual(
        parsed.manifests.map((d) => d.digest),
        [digest("a")],
      );
    }
  });

  it("takes the media type from the body, else Content-Type, else the shape", () => {
    const bare: Record<string, unknown> = image();
    delete bare.mediaType;
    assert.equal(parseManifest(json(bare), DOCKER_MANIFEST).mediaType, DOCKER_MANIFEST);
    assert.equal(parseManifest(json(bare), undefined).mediaType, OCI_MANIFEST);
    assert.equal(parseManifest(json({ schemaVersion: 2, manifests: [] }), undefined).mediaType, OCI_INDEX);
    assert.equal(parseManifest(json(image()), `${OCI_MANIFEST}; charset=utf-8`).mediaType, OCI_MANIFEST);
  });

  it("records subject, artifact type (explicit, or the config's for OCI 1.1 artifacts) and annotations", () => {
    const parsed = parseManifest(
      json(image({ subject: descriptor("5", OCI_MANIFEST), annotations: { "org.example": "yes" } })),
      undefined,
    );
    assert.equal(parsed.subject?.digest, digest("5"));
    assert.deepEqual(parsed.annotations, { "org.example": "yes" });
    const artifact = image({ config: descriptor("c", "application/vnd.example.sbom") });
    assert.equal(parseManifest(json(artifact), undefined).artifactType, "application/vnd.example.sbom");
    assert.equal(parseManifest(json(image({ artifactType: "x/y" })), undefined).artifactType, "x/y");
    assert.equal(parseManifest(json(image()), undefined).artifactType, undefined);
  });

  it("keeps foreign layers' urls, so their bytes need not be in the registry", () => {
    const foreign = {
      ...descriptor("f", "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"),
      urls: ["https://example.com/layer"],
    };
    const parsed = parseManifest(json(image({ layers: [foreign] })), undefined);
    assert.deepEqual(parsed.blobs[1]?.urls, ["https://example.com/layer"]);
  });

  it("accepts a manifest of an unknown media type that is a JSON object, without structural checks", () => {
    const parsed = parseManifest(json({ mediaType: "application/vnd.example+json", anything: 1 }), undefined);
    assert.equal(parsed.mediaType, "application/vnd.example+json");
    assert.deepEqual(parsed.blobs, []);
  });

  it("refuses what is not a valid manifest, saying why", () => {
    assert.match(invalid(new TextEncoder().encode("{nope")), /not valid JSON/);
    assert.match(invalid(new Uint8Array([0x7b, 0xff, 0x7d])), /not valid JSON/, "invalid UTF-8");
    assert.match(invalid(json([1, 2])), /JSON object/);
    assert.match(invalid(json({ anything: 1 })), /media type unknown/);
    assert.match(invalid(json(image()), DOCKER_MANIFEST), /does not match Content-Type/);
    assert.match(invalid(json(image({ schemaVersion: 1 }))), /schemaVersion/);
    assert.match(invalid(json(image({ layers: "x" }))), /layers must be an array/);
    assert.match(invalid(json(image({ layers: [{ ...descriptor("1"), size: -1 }] }))), /layers\[0\]\.size/);
    assert.match(
      invalid(json(image({ layers: [{ ...descriptor("1"), digest: "sha256:zz" }] }))),
      /layers\[0\]\.digest/,
    );
    assert.match(invalid(json(image({ config: "x" }))), /config must be a descriptor/);
    assert.match(invalid(json(image({ annotations: { a: 1 } }))), /annotations/);
    assert.match(
      invalid(json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: {} })),
      /manifests must be an array/,
    );
  });
});
