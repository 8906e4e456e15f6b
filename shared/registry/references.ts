import { RegistryError } from "./errors.js";

/**
 * Validation of the identifiers that arrive in URLs, per the OCI Distribution Spec grammar.
 * Everything here runs before any storage call, so storage only ever sees well-formed keys.
 */

/** Path components `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*` joined by `/`. */
const NAME_COMPONENT = "[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*";
const NAME = new RegExp(`^${NAME_COMPONENT}(?:/${NAME_COMPONENT})*$`);
const TAG = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const DIGEST = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const ENCODED_LENGTH: Record<string, number> = { sha256: 64, sha512: 128 };
/** Names longer than this cannot be stored as table keys with room to spare (and no client needs them). */
export const MAX_NAME_LENGTH = 255;

export function isValidName(name: string): boolean {
  return name.length <= MAX_NAME_LENGTH && NAME.test(name);
}

export function assertName(name: string): string {
  if (!isValidName(name)) throw new RegistryError("NAME_INVALID", "invalid repository name", { name });
  return name;
}

export function isTag(reference: string): boolean {
  return TAG.test(reference);
}

export function assertTag(tag: string): string {
  if (!isTag(tag)) throw new RegistryError("TAG_INVALID", "invalid tag", { tag });
  return tag;
}

export type DigestAlgorithm = "sha256" | "sha512";

/**
 * Parses `algorithm:hex`. A digest that breaks the grammar, or whose hex does not fit its
 * algorithm, is DIGEST_INVALID; a well-formed digest of an algorithm we do not implement is
 * UNSUPPORTED (the spec lets registries refuse such algorithms).
 */
export function parseDigest(digest: string): { algorithm: DigestAlgorithm; hex: string } {
  if (!DIGEST.test(digest)) throw new RegistryError("DIGEST_INVALID", "invalid digest", { digest });
  const [algorithm, hex] = digest.split(":") as [string, string];
  const length = ENCODED_LENGTH[algorithm];
  if (length === undefined) throw new RegistryError("UNSUPPORTED", "unsupported digest algorithm", { digest });
  if (hex.length !== length || !/^[a-f0-9]+$/.test(hex)) {
    throw new RegistryError("DIGEST_INVALID", "invalid digest", { digest });
  }
  return { algorithm: algorithm as DigestAlgorithm, hex };
}

export function assertDigest(digest: string): string {
  parseDigest(digest);
  return digest;
}

export function isDigest(reference: string): boolean {
  return reference.includes(":");
}

/** A manifest reference is either a tag or a digest. */
export function assertReference(reference: string): string {
  return isDigest(reference) ? assertDigest(reference) : assertTag(reference);
}

const UPLOAD_ID = /^[a-f0-9]{32}$/;

/** Upload ids are ours (random hex); anything else cannot name an upload. */
export function isUploadId(id: string): boolean {
  return UPLOAD_ID.test(id);
}
