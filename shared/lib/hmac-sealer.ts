import { createHmac, timingSafeEqual } from "node:crypto";

/** HMAC keys by id: the newest seals, any still known verifies (so a rotation breaks nothing sealed before it). */
export interface MacKeys {
  current(): Promise<{ id: string; key: Uint8Array }>;
  /** The key with this id, or undefined when it is unknown or retired. */
  find(id: string): Promise<Uint8Array | undefined>;
}

/**
 * Tamper-evident strings: `<key id>.<payload, base64url>.<HMAC-SHA256, base64url>`. Whoever
 * holds a sealed string can read it but not change it; only holders of the keys can make one.
 */
export class HmacSealer {
  constructor(private readonly keys: MacKeys) {}

  async seal(payload: string): Promise<string> {
    const { id, key } = await this.keys.current();
    const signed = `${id}.${Buffer.from(payload).toString("base64url")}`;
    return `${signed}.${mac(key, signed).toString("base64url")}`;
  }

  /** The payload, or undefined when the string was not sealed by one of our keys as it is. */
  async open(sealed: string): Promise<string | undefined> {
    const parts = sealed.split(".");
    if (parts.length !== 3) return undefined;
    const [id, payload, tag] = parts as [string, string, string];
    const key = await this.keys.find(id);
    if (!key) return undefined;
    const expected = mac(key, `${id}.${payload}`);
    const given = Buffer.from(tag, "base64url");
    // constant time: a timing difference would let a forger find a valid tag byte by byte
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    return Buffer.from(payload, "base64url").toString();
  }
}

/** One fixed key (tests, single-process tools). */
export function fixedMacKeys(key: Uint8Array, id = "k"): MacKeys {
  return {
    current: () => Promise.resolve({ id, key }),
    find: (wanted) => Promise.resolve(wanted === id ? key : undefined),
  };
}

function mac(key: Uint8Array, data: string): Buffer {
  return createHmac("sha256", key).update(data).digest();
}
