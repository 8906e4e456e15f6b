import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";

/**
 * Password (and access-token secret) hashing with scrypt from node:crypto. The parameters
 * travel with each hash (`scrypt$N$r$p$salt$hash`), so they can be raised later without
 * invalidating stored hashes.
 */
const DEFAULT = { N: 2 ** 15, r: 8, p: 1 };
const KEY_LENGTH = 32;

/**
 * scrypt runs on libuv's thread pool (4 threads), which DNS lookups and file access share: a
 * flood of logins must not take all of it (nor 32 MiB per hash beyond a few), so at most two
 * hashes run at once, and at most MAX_QUEUED wait; past that a check is refused at once
 * (HashQueueFullError) rather than making every login, the owner's included, wait behind a
 * flood (600 queued checks would be half a minute).
 */
const MAX_PARALLEL = 2;
const MAX_QUEUED = 32;
let running = 0;
const waiting: (() => void)[] = [];

/** Too many password checks are already waiting: try again in a moment. */
export class HashQueueFullError extends Error {
  override name = "HashQueueFullError";
}

async function acquire(): Promise<void> {
  if (running < MAX_PARALLEL) {
    running++;
    return;
  }
  if (waiting.length >= MAX_QUEUED) throw new HashQueueFullError("too many password checks waiting");
  await new Promise<void>((resolve) => waiting.push(resolve));
}

function release(): void {
  const next = waiting.shift();
  if (next)
    next(); // the slot passes straight to the next in line
  else running--;
}

async function derive(secret: string, salt: Buffer, params: { N: number; r: number; p: number }): Promise<Buffer> {
  // scrypt needs 128 * N * r bytes; allow twice that so the default limit never trips
  const options: ScryptOptions = { ...params, maxmem: 256 * params.N * params.r };
  await acquire();
  try {
    return await new Promise((resolve, reject) =>
      scrypt(secret.normalize("NFC"), salt, KEY_LENGTH, options, (error, key) =>
        error ? reject(error) : resolve(key),
      ),
    );
  } finally {
    release();
  }
}

export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(secret, salt, DEFAULT);
  return ["scrypt", DEFAULT.N, DEFAULT.r, DEFAULT.p, salt.toString("base64url"), key.toString("base64url")].join("$");
}

/** True when `secret` matches `stored`; compared in constant time. A malformed hash never matches. */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [scheme, N, r, p, salt, hash] = stored.split("$");
  if (scheme !== "scrypt" || !N || !r || !p || salt === undefined || hash === undefined) return false;
  const expected = Buffer.from(hash, "base64url");
  const key = await derive(secret, Buffer.from(salt, "base64url"), { N: Number(N), r: Number(r), p: Number(p) });
  return expected.length === key.length && timingSafeEqual(expected, key);
}

/**
 * A hash of a random secret nobody knows. Logins for unknown names are checked against it,
 * so an unknown name takes as long to refuse as a wrong password (no name probing by timing).
 */
let decoy: Promise<string> | undefined;
export function decoyHash(): Promise<string> {
  decoy ??= hashSecret(randomBytes(32).toString("base64url"));
  return decoy;
}

/** A fresh random secret: generated passwords, access-token secrets, refresh tokens. */
export function generateSecret(bytes = 24): string {
  return randomBytes(bytes).toString("base64url");
}
