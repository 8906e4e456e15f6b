import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { RefreshTokenRecord, RefreshTokenStore } from "../storage/ports/identity-storage.js";
import type { Identity } from "./identities.js";

/**
 * Refresh tokens (`docker login` keeps one as its identity token and trades it for access
 * tokens on every push and pull). Opaque `<id>.<secret>`: the id finds the row, the secret
 * is checked against its SHA-256 in constant time. Revoked by deleting the row, or all at
 * once by changing the identity's epoch (a new password). Not rotated on use: Docker keeps
 * using the one written at login, so a rotated token would log it out.
 */
export class RefreshTokens {
  constructor(
    private readonly store: RefreshTokenStore,
    private readonly ttlSeconds: number,
    private readonly now: () => number = Date.now,
  ) {}

  async issue(identity: Identity, clientId: string): Promise<string> {
    const id = randomBytes(16).toString("hex");
    const secret = randomBytes(32).toString("base64url");
    const created = this.now();
    await this.store.create({
      id,
      secretHash: digest(secret),
      subject: identity.name,
      epoch: identity.epoch,
      clientId,
      createdAt: new Date(created).toISOString(),
      expiresAt: new Date(created + this.ttlSeconds * 1000).toISOString(),
    });
    return `${id}.${secret}`;
  }

  /** Who the token was issued to (and under which epoch), or undefined if unknown, revoked or expired. */
  async redeem(token: string): Promise<{ subject: string; epoch: string } | undefined> {
    const record = await this.find(token);
    if (!record || Date.parse(record.expiresAt) <= this.now()) return undefined;
    return { subject: record.subject, epoch: record.epoch };
  }

  /** Revokes one refresh token (only with its secret: an id alone revokes nothing). */
  async revoke(token: string): Promise<boolean> {
    const record = await this.find(token);
    if (record) await this.store.delete(record.id);
    return record !== undefined;
  }

  private async find(token: string): Promise<RefreshTokenRecord | undefined> {
    const match = /^([0-9a-f]{32})\.([A-Za-z0-9_-]{43})$/.exec(token);
    if (!match) return undefined;
    const record = await this.store.get(match[1] as string);
    if (!record) return undefined;
    const expected = Buffer.from(record.secretHash, "base64url");
    const actual = Buffer.from(digest(match[2] as string), "base64url");
    return expected.length === actual.length && timingSafeEqual(expected, actual) ? record : undefined;
  }
}

function digest(secret: string): string {
  return createHash("sha256").update(secret).digest("base64url");
}
