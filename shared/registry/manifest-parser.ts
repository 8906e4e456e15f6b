import { RegistryError } from "./errors.js";
import { IMAGE_TYPES, INDEX_TYPES, OCI_INDEX, OCI_MANIFEST } from "./media-types.js";
import { parseDigest } from "./references.js";

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
}

/** What the registry needs to know about a manifest to store and serve it. */
export interface ParsedManifest {
  mediaType: string;
  /** Blobs that must be in the repository (config, layers). */
  blobs: Descriptor[];
  /** Manifests that must be in the repository (children of an index). */
  manifests: Descriptor[];
  subject?: Descriptor;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/**
 * Parses and validates a manifest body. The media type comes from the body's `mediaType` when
 * present (it must then agree with Content-Type), else from Content-Type. Unknown media types
 * are accepted as long as they are JSON objects; the known ones are checked structurally.
 */
export function parseManifest(bytes: Uint8Array, contentType: string | undefined): ParsedManifest {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    throw invalid("manifest is not valid JSON");
  }
  if (!isObject(json)) throw invalid("manifest must be a JSON object");
  const declared = json.mediaType;
  if (declared !== undefined && typeof declared !== "string") throw invalid("mediaType must be a string");
  const headerType = contentType?.split(";")[0]?.trim() || undefined;
  if (declared && headerType && declared !== headerType) {
    throw invalid(`mediaType ${declared} does not match Content-Type ${headerType}`);
  }
  const mediaType = declared || headerType || guessType(json);
  if (!mediaType) throw invalid("manifest media type unknown: set mediaType or Content-Type");

  const parsed: ParsedManifest = { mediaType, blobs: [], manifests: [] };
  if (IMAGE_TYPES.has(mediaType)) {
    if (json.schemaVersion !== 2) throw invalid("schemaVersion must be 2");
    parsed.blobs.push(descriptor(json.config, "config"));
    if (!Array.isArray(json.layers)) throw invalid("layers must be an array");
    json.layers.forEach((layer, i) => parsed.blobs.push(descriptor(layer, `layers[${i}]`)));
  } else if (INDEX_TYPES.has(mediaType)) {
    if (json.schemaVersion !== 2) throw invalid("schemaVersion must be 2");
    if (!Array.isArray(json.manifests)) throw invalid("manifests must be an array");
    json.manifests.forEach((child, i) => parsed.manifests.push(descriptor(child, `manifests[${i}]`)));
  }
  if (json.subject !== undefined) parsed.subject = descriptor(json.subject, "subject");
  const artifactType = typeof json.artifactType === "string" ? json.artifactType : configArtifactType(json, mediaType);
  if (artifactType) parsed.artifactType = artifactType;
  if (json.annotations !== undefined) parsed.annotations = annotations(json.annotations);
  return parsed;
}

function annotations(value: unknown): Record<string, string> {
  if (!isObject(value) || !Object.values(value).every((v) => typeof v === "string")) {
    throw invalid("annotations must map strings to strings");
  }
  return value as Record<string, string>;
}

function descriptor(value: unknown, where: string): Descriptor {
  if (!isObject(value)) throw invalid(`${where} must be a descriptor object`);
  const { mediaType, digest, size, urls } = value;
  if (typeof mediaType !== "string" || !mediaType) throw invalid(`${where}.mediaType missing`);
  if (typeof digest !== "string") throw invalid(`${where}.digest missing`);
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) throw invalid(`${where}.size invalid`);
  try {
    parseDigest(digest);
  } catch {
    throw invalid(`${where}.digest invalid`);
  }
  const result: Descriptor = { mediaType, digest, size };
  if (Array.isArray(urls) && urls.length > 0) result.urls = urls.filter((u): u is string => typeof u === "string");
  return result;
}

/** OCI 1.1: an image manifest without artifactType is typed by its config's media type. */
function configArtifactType(json: Record<string, unknown>, mediaType: string): string | undefined {
  if (mediaType !== OCI_MANIFEST || !isObject(json.config)) return undefined;
  const type = json.config.mediaType;
  return typeof type === "string" && type !== "application/vnd.oci.image.config.v1+json" ? type : undefined;
}

/** OCI manifests may omit mediaType; their shape tells which they are. */
function guessType(json: Record<string, unknown>): string | undefined {
  if (json.schemaVersion !== 2) return undefined;
  if (Array.isArray(json.manifests)) return OCI_INDEX;
  if (json.config !== undefined) return OCI_MANIFEST;
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function invalid(message: string): RegistryError {
  return new RegistryError("MANIFEST_INVALID", message);
}
