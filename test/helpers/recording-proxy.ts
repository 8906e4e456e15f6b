import { createServer, request as httpRequest, type Server } from "node:http";
import type { AzuriteInstance } from "../../shared/server/azurite.js";
import { closeServer } from "./listening.js";

/** One storage request as the registry sent it. */
export interface RecordedRequest {
  service: "blob" | "queue" | "table";
  method: string;
  /** Path and query, as sent. */
  url: string;
  version: string | undefined;
  /** The first 256 KiB of the body (table batches carry their keys there). */
  body: string;
}

const BODY_KEPT = 256 * 1024;

/**
 * Recording HTTP proxies on 127.0.0.1 in front of Azurite's three services: every request
 * the SDKs send is forwarded unchanged and recorded, so a test can see each `x-ms-version`
 * and every table key that went over the wire. `connectionString` points the registry at them.
 */
export class RecordingProxy {
  readonly requests: RecordedRequest[] = [];
  private readonly servers: Server[] = [];
  connectionString = "";

  static async start(azurite: AzuriteInstance): Promise<RecordingProxy> {
    const proxy = new RecordingProxy();
    const ports = {
      blob: await proxy.listen("blob", azurite.ports.blob),
      queue: await proxy.listen("queue", azurite.ports.queue),
      table: await proxy.listen("table", azurite.ports.table),
    };
    proxy.connectionString = azurite.connectionString.replace(
      /(Blob|Queue|Table)Endpoint=http:\/\/127\.0\.0\.1:\d+/g,
      (_, service: string) =>
        `${service}Endpoint=http://127.0.0.1:${ports[service.toLowerCase() as keyof typeof ports]}`,
    );
    return proxy;
  }

  private listen(service: RecordedRequest["service"], target: number): Promise<number> {
    const server = createServer((incoming, outgoing) => {
      const record: RecordedRequest = {
        service,
        method: incoming.method ?? "",
        url: incoming.url ?? "",
        version: incoming.headers["x-ms-version"] as string | undefined,
        body: "",
      };
      this.requests.push(record);
      const upstream = httpRequest(
        { host: "127.0.0.1", port: target, method: incoming.method, path: incoming.url, headers: incoming.headers },
        (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        },
      );
      upstream.on("error", () => outgoing.destroy());
      incoming.on("data", (chunk: Buffer) => {
        if (record.body.length < BODY_KEPT) record.body += chunk.toString("latin1");
      });
      incoming.pipe(upstream);
    });
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve((server.address() as { port: number }).port));
    });
  }

  async stop(): Promise<void> {
    await Promise.all(this.servers.map((server) => closeServer(server)));
  }

  /** Every PartitionKey and RowKey value sent (from request number `from` on), in URLs and bodies (inserts, batches). */
  tableKeys(from = 0): string[] {
    const keys: string[] = [];
    for (const r of this.requests.slice(from).filter((r) => r.service === "table")) {
      const url = decodeURIComponent(r.url);
      for (const m of url.matchAll(/(?:PartitionKey|RowKey)='((?:[^']|'')*)'/g))
        keys.push((m[1] as string).replace(/''/g, "'"));
      for (const m of r.body.matchAll(/"(?:PartitionKey|RowKey)":"((?:[^"\\]|\\.)*)"/g))
        keys.push(JSON.parse(`"${m[1]}"`));
    }
    return keys;
  }

  /** Every blob name in a blob request's path (after the account and container). */
  blobNames(): string[] {
    return this.requests
      .filter((r) => r.service === "blob")
      .map((r) => decodeURIComponent(new URL(r.url, "http://x").pathname).split("/").slice(3).join("/"))
      .filter((name) => name !== "");
  }
}
