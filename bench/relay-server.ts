/**
 * The least a Node registry in front of blob storage must do with a layer's bytes, as a
 * control for the large-layer targets: it speaks just the requests the bench's large push and
 * pull make (POST, one PATCH, PUT ?digest=, GET by digest), with no auth, no tables and no
 * limits. A PATCH is hashed as it arrives and staged in blocks of Stowage's default size and number in
 * flight, as Stowage stages them (a streamed body of unknown length cannot go up as one Put Blob); the PUT checks
 * the digest and commits the block list; a GET pipes storage's answer to the socket. Storage is
 * reached with undici through a container SAS URL (RELAY_CONTAINER_URL). A HEAD of a manifest by
 * tag is one point read of a tag row through a table SAS URL (RELAY_TABLE_URL), as Stowage
 * answers it, without the token check. Run by relay-floor.ts, on loopback only; a measuring
 * instrument, not a registry.
 */
import { createHash, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { pipeline } from "node:stream/promises";
import { Agent, request } from "undici";
import { relayPartitionKey } from "./relay-keys.js";
import { BLOCK_BYTES, BLOCKS_IN_FLIGHT } from "./registry-blocks.js";

/** Uploads older than this are forgotten (the bench makes one at a time). */
const MAX_UPLOADS = 16;

const container = new URL(process.env.RELAY_CONTAINER_URL ?? "");
const table = new URL(process.env.RELAY_TABLE_URL ?? "");
const dispatcher = new Agent({ keepAliveTimeout: 10_000 });
const uploads = new Map<string, { blob: string; blocks: string[]; digest: string }>();
/** Digest -> blob name, in memory: the control has no index table. */
const names = new Map<string, string>();

function blobUrl(name: string, query = ""): string {
  const url = new URL(container);
  url.pathname = `${url.pathname}/${name}`;
  return `${url.toString()}${query}`;
}

async function storage(url: string, method: "GET" | "PUT", body?: Buffer | string) {
  const headers: Record<string, string> = { "x-ms-version": "2021-08-06" };
  if (body !== undefined) headers["content-length"] = String(Buffer.byteLength(body));
  const answer = await request(url, { method, headers, body, dispatcher });
  if (answer.statusCode >= 300 && method === "PUT") {
    throw new Error(`storage ${method} answered ${answer.statusCode}: ${await answer.body.text()}`);
  }
  return answer;
}

/** Hashes the body as it arrives and stages it block by block, at most BLOCKS_IN_FLIGHT at once. */
async function stage(req: IncomingMessage, blob: string): Promise<{ blocks: string[]; digest: string }> {
  const hash = createHash("sha256");
  const blocks: string[] = [];
  const inFlight = new Set<Promise<unknown>>();
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    const id = Buffer.from(`block-${String(blocks.length).padStart(6, "0")}`).toString("base64");
    blocks.push(id);
    const data = Buffer.concat(pending, pendingBytes);
    [pending, pendingBytes] = [[], 0];
    const put = storage(blobUrl(blob, `&comp=block&blockid=${encodeURIComponent(id)}`), "PUT", data)
      .then((answer) => answer.body.dump())
      .finally(() => inFlight.delete(put));
    inFlight.add(put);
    while (inFlight.size >= BLOCKS_IN_FLIGHT) await Promise.race(inFlight);
  };
  for await (const chunk of req as AsyncIterable<Buffer>) {
    hash.update(chunk);
    pending.push(chunk);
    pendingBytes += chunk.length;
    if (pendingBytes >= BLOCK_BYTES) await flush();
  }
  if (pendingBytes > 0 || blocks.length === 0) await flush();
  await Promise.all(inFlight);
  return { blocks, digest: `sha256:${hash.digest("hex")}` };
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://relay");
  const path = url.pathname;
  if (req.method === "GET" && path === "/v2/") return void res.writeHead(200).end();
  if (req.method === "POST" && path.endsWith("/blobs/uploads/")) {
    const id = randomUUID();
    if (uploads.size >= MAX_UPLOADS) uploads.delete(uploads.keys().next().value as string);
    uploads.set(id, { blob: `relay/${id}`, blocks: [], digest: "" });
    return void res.writeHead(202, { location: `/uploads/${id}` }).end();
  }
  const upload = uploads.get(path.slice("/uploads/".length));
  if (req.method === "PATCH" && upload) {
    Object.assign(upload, await stage(req, upload.blob));
    return void res.writeHead(202, { location: path }).end();
  }
  if (req.method === "PUT" && upload) {
    if (url.searchParams.get("digest") !== upload.digest) return void res.writeHead(400).end("digest mismatch");
    const list = upload.blocks.map((id) => `<Latest>${id}</Latest>`).join("");
    await (await storage(blobUrl(upload.blob, "&comp=blocklist"), "PUT", `<BlockList>${list}</BlockList>`)).body.dump();
    uploads.delete(path.slice("/uploads/".length));
    names.set(upload.digest, upload.blob);
    return void res.writeHead(201, { "docker-content-digest": upload.digest }).end();
  }
  const tagged = /^\/v2\/(.+)\/manifests\/([\w][\w.-]{0,127})$/.exec(path);
  if (req.method === "HEAD" && tagged) return headByTag(res, tagged[1] as string, tagged[2] as string);
  const digest = /\/blobs\/(sha256:[0-9a-f]{64})$/.exec(path)?.[1];
  if (req.method === "GET" && digest) {
    const answer = await storage(blobUrl(names.get(digest) ?? "none"), "GET");
    if (answer.statusCode !== 200) {
      await answer.body.dump();
      return void res.writeHead(404).end();
    }
    res.writeHead(200, { "content-length": String(answer.headers["content-length"]), "docker-content-digest": digest });
    return pipeline(answer.body, res);
  }
  res.writeHead(404).end();
}

async function headByTag(res: ServerResponse, repository: string, tag: string): Promise<void> {
  const url = new URL(table);
  url.pathname += `(PartitionKey='${encodeURIComponent(relayPartitionKey(repository))}',RowKey='tag%3A${tag}')`;
  url.searchParams.set("$select", "digest,mediaType,size"); // as Stowage reads it: not the manifest the row carries
  const headers = { accept: "application/json;odata=minimalmetadata", "x-ms-version": "2019-02-02" };
  const answer = await request(url, { method: "GET", headers, dispatcher });
  if (answer.statusCode !== 200) {
    await answer.body.dump();
    return void res.writeHead(404).end();
  }
  const row = (await answer.body.json()) as { digest: string; mediaType: string; size: string | number };
  res
    .writeHead(200, {
      "docker-content-digest": row.digest,
      "content-type": row.mediaType,
      "content-length": String(Number(row.size)),
    })
    .end();
}

const server = createServer((req, res) => {
  handle(req, res).catch((error: unknown) => {
    if (!res.headersSent) res.writeHead(500).end(String(error));
    else res.destroy();
  });
});
server.listen(Number(process.env.PORT), "127.0.0.1");
process.on("SIGTERM", () => {
  server.close();
  void dispatcher.close().finally(() => process.exit(0));
});
