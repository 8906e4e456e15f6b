import { createHmac, timingSafeEqual } from "node:crypto";

/** The header carrying `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export const SIGNATURE_HEADER = "Stowage-Signature";

/**
 * Signs the timestamp with the body, so a captured request cannot be replayed later with a
 * fresh timestamp: the receiver recomputes the MAC and rejects old timestamps.
 */
export function signatureHeader(secret: string, body: string, unixSeconds: number): string {
  return `t=${unixSeconds},v1=${mac(secret, unixSeconds, body)}`;
}

/** A receiver's check (what the README shows): a valid MAC and a timestamp within `toleranceSeconds`. */
export function verifySignature(
  secret: string,
  body: string,
  header: string | null | undefined,
  toleranceSeconds = 300,
  nowSeconds = Math.floor(Date.now() / 1000),
): boolean {
  const fields = new Map((header ?? "").split(",").map((part) => part.split("=", 2) as [string, string]));
  const t = Number(fields.get("t"));
  const given = Buffer.from(fields.get("v1") ?? "", "hex");
  if (!Number.isInteger(t) || Math.abs(nowSeconds - t) > toleranceSeconds) return false;
  const expected = Buffer.from(mac(secret, t, body), "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function mac(secret: string, unixSeconds: number, body: string): string {
  return createHmac("sha256", secret).update(`${unixSeconds}.${body}`).digest("hex");
}
