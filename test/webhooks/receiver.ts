import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import { freePort } from "../../shared/server/azurite.js";
import { closeServer } from "../helpers/listening.js";

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/**
 * A webhook receiver on 127.0.0.1: records every POST, answers `status` (settable), and can
 * go down (listener closed: connection refused) and come back on the same port.
 */
export class Receiver {
  readonly received: Received[] = [];
  status = 200;
  /** Per-path answers overriding `status`. */
  readonly statuses = new Map<string, number>();
  private server: Server | undefined;

  private constructor(readonly port: number) {}

  static async start(): Promise<Receiver> {
    const receiver = new Receiver(await freePort("127.0.0.1"));
    await receiver.up();
    return receiver;
  }

  url(path = "/hook"): string {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  async up(): Promise<void> {
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        this.received.push({
          path: request.url ?? "",
          headers: request.headers,
          body: Buffer.concat(chunks).toString("utf8"),
          at: Date.now(),
        });
        response.writeHead(this.statuses.get(request.url ?? "") ?? this.status).end();
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", resolve);
    });
    this.server = server;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await closeServer(server);
  }

  /** Requests to one path (each subscription in a test gets its own path). */
  at(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  /** Waits until `predicate` holds over what arrived. */
  async waitFor(predicate: (received: Received[]) => boolean, timeoutMs = 20_000, what = "deliveries"): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.received)) {
      if (Date.now() > deadline) {
        const seen = this.received.map((r) => `${r.path} ${r.body.slice(0, 200)}`).join("\n  ");
        throw new Error(`timed out waiting for ${what}; received:\n  ${seen}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/**
 * A receiver's signature check, written as the README tells receivers to (independent of the
 * registry's own code): `Stowage-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`,
 * compared in constant time, and rejected when older than five minutes.
 */
export function verifyAsReceiver(secret: string, body: string, header: string | string[] | undefined): boolean {
  const fields = Object.fromEntries(
    String(header)
      .split(",")
      .map((kv) => kv.split("=")),
  );
  const t = Number(fields.t);
  if (!Number.isInteger(t) || Math.abs(Date.now() / 1000 - t) > 300) return false;
  const expected = createHmac("sha256", secret).update(`${t}.${body}`).digest();
  const given = Buffer.from(String(fields.v1), "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}
