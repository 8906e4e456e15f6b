import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { Agent, request as httpRequest, type IncomingHttpHeaders, type Server } from "node:http";
import type { TestContext } from "node:test";
import { OCI_MANIFEST, SuiteData, type TestBlob } from "./conformance-data.js";

export * from "./conformance-data.js";

/**
 * What the OCI distribution-spec conformance suite (v1.1 workflows: pull, push, content
 * discovery, content management) sends and checks, rebuilt for node:test. The suite talks
 * HTTP to a running registry, so these tests do too: the registry's fetch handler behind the
 * Node server adapter on 127.0.0.1, and a small client that frames requests as Go's net/http
 * does (Content-Length from the body; `Content-Length: 0` on a POST, PUT or PATCH without one).
 */

/** Every code the suite accepts as the first entry of an error body. */
export const SPEC_ERROR_CODES = [
  "BLOB_UNKNOWN",
  "BLOB_UPLOAD_INVALID",
  "BLOB_UPLOAD_UNKNOWN",
  "DIGEST_INVALID",
  "MANIFEST_BLOB_UNKNOWN",
  "MANIFEST_INVALID",
  "MANIFEST_UNKNOWN",
  "MANIFEST_UNVERIFIED",
  "NAME_INVALID",
  "NAME_UNKNOWN",
  "SIZE_INVALID",
  "TAG_INVALID",
  "UNAUTHORIZED",
  "DENIED",
  "UNSUPPORTED",
];

// ---------------------------------------------------------------------------------------------
// HTTP

export interface Reply {
  request: string;
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** A response header ("" when absent), as Go's Header().Get answers. */
  header(name: string): string;
}

export interface Send {
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Uint8Array | string;
}

export class SuiteClient {
  private readonly agent = new Agent({ keepAlive: true });

  constructor(readonly origin: string) {}

  /**
   * `target` is a path, possibly with a query (a Location); `query` is added to it. Like Go's
   * client, a GET or HEAD follows redirects (a blob GET may be sent to storage).
   */
  async send(method: string, target: string, init: Send = {}): Promise<Reply> {
    const url = new URL(target, this.origin);
    for (const [key, value] of Object.entries(init.query ?? {})) url.searchParams.set(key, value);
    let reply = await this.once(method, url, init);
    for (let hops = 0; hops < 10 && (method === "GET" || method === "HEAD"); hops++) {
      if (![301, 302, 303, 307, 308].includes(reply.status) || reply.header("Location") === "") break;
      reply = await this.once(method, new URL(reply.header("Location"), url), {});
    }
    return reply;
  }

  private once(method: string, url: URL, init: Send): Promise<Reply> {
    const body = init.body === undefined ? undefined : Buffer.from(init.body);
    const headers: Record<string, string> = { "User-Agent": "distribution-spec-conformance-tests", ...init.headers };
    if (body) headers["Content-Length"] = String(body.byteLength);
    else if (method === "POST" || method === "PUT" || method === "PATCH") headers["Content-Length"] = "0";
    const described = `${method} ${url.pathname}${url.search}`;
    return new Promise((resolve, reject) => {
      const req = httpRequest(url, { method, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", reject);
        res.on("end", () => {
          const reply: Reply = {
            request: described,
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
            header: (name) => {
              const value = res.headers[name.toLowerCase()];
              return Array.isArray(value) ? (value[0] ?? "") : (value ?? "");
            },
          };
          resolve(reply);
        });
      });
      req.on("error", reject);
      req.end(body);
    });
  }

  close(): void {
    this.agent.destroy();
  }
}

/** The Location as a path (the suite's GetRelativeLocation: an absolute URL loses its origin). */
export function relativeLocation(reply: Reply): string {
  const location = reply.header("Location");
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) return location;
  const url = new URL(location);
  return `${url.pathname}${url.search}`;
}

/** The Location resolved against the registry (the suite's GetAbsoluteLocation). */
export function absoluteLocation(reply: Reply, origin: string): string {
  const location = reply.header("Location");
  return location ? new URL(location, origin).href : "";
}

/** An accepted status: a number, or any 2xx. */
export type Accepted = number | "2xx";

/** The suite's `Equal(s)` / `SatisfyAny(...)`: the status is one of `accepted`. */
export function assertStatus(reply: Reply, ...accepted: Accepted[]): void {
  const ok = accepted.some((a) => (a === "2xx" ? reply.status >= 200 && reply.status < 300 : reply.status === a));
  assert.ok(
    ok,
    `${reply.request}: expected ${accepted.join(" or ")}, got ${reply.status} ${reply.body.toString("utf8").slice(0, 300)}`,
  );
}

/** The suite's `Expect(location).ToNot(BeEmpty())`. */
export function assertLocation(reply: Reply): void {
  assert.notEqual(reply.header("Location"), "", `${reply.request}: ${reply.status} without a Location header`);
}

/** When an optional header is sent, it must have this value (the suite's `if h != "" {...}`). */
export function assertOptionalHeader(reply: Reply, name: string, expected: string): void {
  const value = reply.header(name);
  if (value !== "") assert.equal(value, expected, `${reply.request}: ${name}`);
}

/** The suite's `resp.Errors()`: the error list of a JSON error body. */
export function errorCodes(reply: Reply): string[] {
  const parsed = JSON.parse(reply.body.toString("utf8")) as { errors?: { code?: string }[] };
  assert.ok(Array.isArray(parsed.errors), `${reply.request}: no errors array in ${reply.body.toString("utf8")}`);
  return parsed.errors.map((e) => e.code ?? "");
}

/** The suite's getTagList: `tags` of a tags/list body, [] when it is not that JSON. */
export function tagsOf(reply: Reply): string[] {
  try {
    const parsed = JSON.parse(reply.body.toString("utf8")) as { tags?: string[] | null };
    return parsed.tags ?? [];
  } catch {
    return [];
  }
}

export interface ListedDescriptor {
  mediaType?: string;
  digest: string;
  size?: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** The index a referrers GET answers. */
export function indexOf(reply: Reply): { manifests: ListedDescriptor[] } {
  const parsed = JSON.parse(reply.body.toString("utf8")) as { manifests?: ListedDescriptor[] | null };
  return { manifests: parsed.manifests ?? [] };
}

/** The suite's RunOnlyIf: the spec is reported skipped, not passed, when the condition is false. */
export function runOnlyIf(t: TestContext, condition: boolean, why: string): boolean {
  if (!condition) t.skip(why);
  return condition;
}

// ---------------------------------------------------------------------------------------------
// One run of the suite

export interface RunOptions {
  /** OCI_NAMESPACE. */
  namespace: string;
  /** OCI_AUTOMATIC_CROSSMOUNT: undefined when unset (both automatic-mount specs skip). */
  automaticCrossmount?: boolean;
  /** OCI_DELETE_MANIFEST_BEFORE_BLOBS (the suite's default: true). */
  deleteManifestBeforeBlobs?: boolean;
}

/**
 * The state one `go test` process of the suite carries from spec to spec: its data, the
 * namespace, and the HTTP client (set once the server listens, in `before`).
 */
export class SuiteRun {
  readonly data = new SuiteData();
  /** OCI_CROSSMOUNT_NAMESPACE's default: a fresh repository per run. */
  readonly crossmountNamespace = `conformance-${randomUUID()}`;
  readonly namespace: string;
  readonly automaticCrossmount: boolean | undefined;
  readonly deleteManifestBeforeBlobs: boolean;
  private connected: SuiteClient | undefined;

  constructor(options: RunOptions) {
    this.namespace = options.namespace;
    this.automaticCrossmount = options.automaticCrossmount;
    this.deleteManifestBeforeBlobs = options.deleteManifestBeforeBlobs ?? true;
  }

  connect(client: SuiteClient): void {
    this.connected = client;
  }

  get client(): SuiteClient {
    if (!this.connected) throw new Error("the suite's client is not connected yet (use it inside a test)");
    return this.connected;
  }

  /** `/v2/<name>/...` in this run's namespace. */
  path(rest: string): string {
    return `/v2/${this.namespace}/${rest}`;
  }

  /** The setup idiom: POST an upload, then PUT the whole blob to its Location with ?digest=. */
  async pushBlob(blob: TestBlob): Promise<Reply> {
    const post = await this.client.send("POST", this.path("blobs/uploads/"));
    return this.client.send("PUT", relativeLocation(post), {
      query: { digest: blob.digest },
      headers: { "Content-Type": "application/octet-stream" },
      body: blob.content,
    });
  }

  putManifest(reference: string, manifest: TestBlob, mediaType = OCI_MANIFEST): Promise<Reply> {
    return this.client.send("PUT", this.path(`manifests/${reference}`), {
      headers: { "Content-Type": mediaType },
      body: manifest.content,
    });
  }

  delete(rest: string): Promise<Reply> {
    return this.client.send("DELETE", this.path(rest));
  }
}

/** Starts listening on a free loopback port; resolves to the origin. */
export function listen(server: Server): Promise<string> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      resolve(`http://127.0.0.1:${port}`);
    });
  });
}
