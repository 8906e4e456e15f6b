import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A counting HTTP proxy in front of Azurite: the connection string handed to a server is
 * rewritten so each endpoint (blob, queue, table) goes through it, and every storage request
 * is counted as `METHOD service comp` (e.g. `PUT blob blocklist`). Used to measure storage
 * round trips per operation; it adds a hop, so nothing timed runs through it.
 */
export class StorageCallCounter {
  private readonly servers: Server[] = [];
  private counts = new Map<string, number>();

  private constructor(readonly connectionString: string) {}

  static async start(connectionString: string): Promise<StorageCallCounter> {
    const counter = new StorageCallCounter("");
    let rewritten = connectionString;
    for (const service of ["Blob", "Queue", "Table"]) {
      const match = new RegExp(`${service}Endpoint=http://127\\.0\\.0\\.1:(\\d+)`).exec(connectionString);
      if (!match) continue;
      const port = await counter.listen(service.toLowerCase(), Number(match[1]));
      rewritten = rewritten.replace(match[0], `${service}Endpoint=http://127.0.0.1:${port}`);
    }
    return Object.assign(counter, { connectionString: rewritten }) as StorageCallCounter;
  }

  /** Counts since the last reset, by kind, and their total. */
  take(): { total: number; byKind: Record<string, number> } {
    const byKind = Object.fromEntries([...this.counts].sort((a, b) => b[1] - a[1]));
    this.counts = new Map();
    return { total: Object.values(byKind).reduce((a, b) => a + b, 0), byKind };
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()).closeAllConnections())),
    );
  }

  private async listen(service: string, targetPort: number): Promise<number> {
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://x");
      const comp =
        url.searchParams.get("comp") ?? (service === "table" && url.pathname.includes("$batch") ? "batch" : "");
      const kind = `${req.method} ${service}${comp ? ` ${comp}` : ""}`;
      this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
      const upstream = httpRequest(
        { host: "127.0.0.1", port: targetPort, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.once("error", () => res.destroy());
      req.pipe(upstream);
    });
    this.servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return (server.address() as AddressInfo).port;
  }
}
