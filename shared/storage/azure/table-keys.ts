import { createHash } from "node:crypto";

/**
 * Table keys may not contain `/ \ # ?`. Repository names contain `/` (and otherwise only
 * `[a-z0-9._-]`), so shift the three characters just below '0' down by one:
 * '-' -> ',', '.' -> '-', '/' -> '.'. The mapping is a bijection that keeps ordinal order,
 * so a RowKey range query still returns repositories in lexical order (catalog pagination).
 */
const ENCODE: Record<string, string> = { "-": ",", ".": "-", "/": "." };
const DECODE: Record<string, string> = { ",": "-", "-": ".", ".": "/" };

export function encodeKey(name: string): string {
  return name.replace(/[-./]/g, (c) => ENCODE[c] as string);
}

export function decodeKey(key: string): string {
  return key.replace(/[,.-]/g, (c) => DECODE[c] as string);
}

/** The smallest string greater than every string starting with `prefix` (for range queries). */
export function prefixEnd(prefix: string): string {
  return prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
}

/** OData string literal (single quotes doubled). */
export function odata(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** Azure Stack Hub's limit on PartitionKey and RowKey length (Azure's is 1,024). */
export const MAX_KEY_LENGTH = 400;

/**
 * A key for a free-form string (throttle keys hold client addresses, which a proxy header can
 * make arbitrarily long): URI-encoded, so `/ \ # ?` cannot occur, and replaced by its hash when
 * longer than Stack Hub stores. `%%` never occurs in URI-encoded text, so a hashed key cannot
 * collide with an encoded one.
 */
export function freeFormKey(value: string): string {
  const encoded = encodeURIComponent(value);
  if (encoded.length <= MAX_KEY_LENGTH) return encoded;
  return `%%sha256:${createHash("sha256").update(value).digest("hex")}`;
}
