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
