import { createHash, X509Certificate } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createSecureContext, type SecureContextOptions } from "node:tls";
import type { TlsConfig } from "../app/config.js";
import type { SecretStore } from "../storage/ports/secret-store.js";

/** What the TLS server is given, with a fingerprint of the bytes it came from (to notice a change). */
export interface TlsCredentials {
  options: SecureContextOptions;
  fingerprint: string;
  /** For the log: where it came from and, when readable, whose certificate and until when. */
  description: string;
}

/**
 * Reads the certificate and key from the configured source: PEM files, a PFX file with its
 * password (the format the registry's Stack Hub setup stores), or a secret in the secret
 * store (a Key Vault certificate's secret is its PFX in base64, or PEM when the certificate
 * was created with that content type). Throws when they cannot be used together, so a
 * half-written renewal is never served.
 */
export async function loadTlsCredentials(config: TlsConfig, secrets?: SecretStore): Promise<TlsCredentials> {
  const source = config.source;
  let options: SecureContextOptions;
  let raw: Buffer[];
  let origin: string;
  if (source.kind === "pem") {
    const [cert, key] = await Promise.all([readFile(source.certFile), readFile(source.keyFile)]);
    options = { cert, key };
    raw = [cert, key];
    origin = source.certFile;
  } else if (source.kind === "pfx") {
    const pfx = await readFile(source.pfxFile);
    options = { pfx, ...(source.passphrase !== undefined ? { passphrase: source.passphrase } : {}) };
    raw = [pfx];
    origin = source.pfxFile;
  } else {
    if (!secrets) throw new Error("TLS from a secret needs the secret store");
    const value = await secrets.latest(source.secretName);
    if (value === undefined) throw new Error(`TLS: secret ${source.secretName} not found in ${secrets.description}`);
    options = fromSecretValue(value, source.passphrase);
    raw = [Buffer.from(value)];
    origin = `secret ${source.secretName} (${secrets.description})`;
  }
  createSecureContext(options); // throws on a bad password, a key that does not match, garbage
  const hash = createHash("sha256");
  for (const part of raw) hash.update(part);
  return { options, fingerprint: hash.digest("hex"), description: `${origin}${certificateSummary(options)}` };
}

/** PEM text (certificates and key in one), or a base64 PKCS#12 as Key Vault keeps a certificate. */
function fromSecretValue(value: string, passphrase: string | undefined): SecureContextOptions {
  const text = value.trim();
  if (text.startsWith("-----BEGIN")) {
    const blocks = text.match(/-----BEGIN ([A-Z ]+)-----[\s\S]+?-----END \1-----/g) ?? [];
    const cert = blocks.filter((b) => b.startsWith("-----BEGIN CERTIFICATE-----")).join("\n");
    const key = blocks.find((b) => /^-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(b));
    if (!cert || !key) throw new Error("TLS: the PEM secret needs a certificate and a private key");
    return { cert, key };
  }
  return { pfx: Buffer.from(text, "base64"), ...(passphrase !== undefined ? { passphrase } : {}) };
}

/** ` (CN=..., valid until ...)` for PEM certificates; a PFX stays opaque here. */
function certificateSummary(options: SecureContextOptions): string {
  if (!options.cert) return "";
  try {
    const leaf = new X509Certificate(Buffer.isBuffer(options.cert) ? options.cert : String(options.cert));
    return ` (${leaf.subject.replace(/\n/g, ", ")}; valid until ${leaf.validTo})`;
  } catch {
    return "";
  }
}
