import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { FetchHandler } from "../http/fetch-handler.js";
import { webStreamOf, writeWebStream } from "../lib/node-web-streams.js";

/**
 * The Node HTTP adapter: IncomingMessage -> Request, Response -> ServerResponse, with bodies
 * streamed both ways (a layer never sits in memory). Translation only; no registry logic.
 */
export function createNodeServer(handle: FetchHandler): Server {
  const server = createServer((req, res) => {
    serve(handle, req, res).catch((error: unknown) => {
      // the client went away mid-body, or the response stream broke: nothing left to tell it
      if (!res.headersSent) res.writeHead(500).end();
      else res.destroy(error instanceof Error ? error : undefined);
    });
  });
  // registry clients keep connections open between requests; let them
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 0; // a large layer can take longer than any fixed limit
  return server;
}

async function serve(handle: FetchHandler, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const response = await handle(toRequest(req), { clientAddress: req.socket.remoteAddress });
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, key) => {
    headers[key] = value;
  });
  res.writeHead(response.status, headers);
  if (!response.body || req.method === "HEAD") {
    await response.body?.cancel();
    res.end();
    return;
  }
  await writeWebStream(response.body, res);
}

function toRequest(req: IncomingMessage): Request {
  const headers = new Headers();
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    headers.append(req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string);
  }
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  const init: RequestInit & { duplex?: "half" } = { method: req.method ?? "GET", headers };
  if (hasBody) {
    init.body = webStreamOf(req);
    init.duplex = "half"; // required by fetch for a streamed request body
  }
  return new Request(`http://${req.headers.host ?? "localhost"}${req.url ?? "/"}`, init);
}
