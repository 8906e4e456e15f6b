import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readdir } from "node:fs/promises";
import Module from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { before, describe, it } from "node:test";
import functions from "@azure/functions";
import { useAzurite } from "../helpers/azurite.js";

const { HttpRequest, InvocationContext } = functions;

interface Registration {
  name: string;
  bindings: Record<string, { type: string; direction: string; route?: string; queueName?: string }>;
}

/**
 * Stands in for the Functions worker, which gives `@azure/functions` its core API by
 * intercepting `require("@azure/functions-core")` (the package is never installed): records
 * every function the app registers, as the host would index them.
 */
function fakeWorker(): Registration[] {
  const registered: Registration[] = [];
  const disposable = { dispose() {} };
  const core = {
    version: "3.10.0",
    hostVersion: "4.1000.0",
    setProgrammingModel() {},
    registerHook: () => disposable,
    log() {},
    registerFunction(metadata: Registration) {
      registered.push(metadata);
      return disposable;
    },
  };
  const proto = Module.prototype as unknown as { require: (id: string) => unknown };
  const original = proto.require;
  proto.require = function (this: unknown, id: string) {
    return id === "@azure/functions-core" ? core : original.call(this, id);
  };
  return registered;
}

/** A handler's answer body, read as a fetch Response reads it. */
const bodyOf = (reply: { body?: unknown }) => new Response(reply.body as ConstructorParameters<typeof Response>[0]);

const DIST = fileURLToPath(new URL("../../", import.meta.url));

/** The Functions bundle (package.json "main", built by tools/bundle.mjs) as the host loads it. */
describe("the Functions bundle (dist/functions.mjs)", () => {
  const azurite = useAzurite();
  const registered = fakeWorker();
  let fromBundle: Registration[];
  let bundle: typeof import("../../functions/registry.js") & typeof import("../../functions/token.js");

  before(async () => {
    const id = randomBytes(4).toString("hex");
    Object.assign(process.env, {
      STOWAGE_STORAGE_CONNECTION_STRING: azurite().connectionString,
      STOWAGE_CONTAINER: `fnb-${id}`,
      STOWAGE_TABLE_PREFIX: `fnb${id}`,
      STOWAGE_ADMIN_PASSWORD: "functions-bundle-password",
      STOWAGE_SECRETS_DIR: await mkdtemp(join(tmpdir(), "stw-fnb-secrets-")),
    });
    bundle = (await import(join(DIST, "functions.mjs"))) as typeof bundle;
    fromBundle = registered.splice(0);
  });

  it("registers every function that the compiled functions/*.js files register", async () => {
    const files = (await readdir(join(DIST, "functions"))).filter((file) => file.endsWith(".js"));
    for (const file of files) await import(join(DIST, "functions", file));
    const names = (list: Registration[]) => list.map((r) => r.name).sort();
    assert.deepEqual(names(fromBundle), names(registered));
    for (const name of ["registry", "token", "jwks", "ui", "api", "readyz", "webhookEvents", "purgeUploads"]) {
      assert.ok(names(fromBundle).includes(name), `${name} is registered`);
    }
    // the same triggers, not only the same names
    const byName = new Map(registered.map((r) => [r.name, r]));
    for (const registration of fromBundle) assert.deepEqual(registration, byName.get(registration.name));
  });

  it("routes the registry function at v2/{*path} with an HTTP trigger", () => {
    const registry = fromBundle.find((r) => r.name === "registry");
    const trigger = Object.values(registry?.bindings ?? {}).find((b) => b.direction === "in");
    assert.equal(trigger?.type, "httpTrigger");
    assert.equal(trigger?.route, "v2/{*path}");
  });

  it("answers through its handlers once the app chunk is loaded", async () => {
    const reply = await bundle.registryHandler(
      new HttpRequest({ method: "GET", url: "http://func.test/v2/" }),
      new InvocationContext({ logHandler() {} }),
    );
    assert.equal(reply.status, 401);
    const headers = reply.headers as Record<string, string>;
    assert.match(headers["www-authenticate"] ?? "", /^Bearer realm=/);
  });

  it("pushes and pulls a blob through its chunks (the blob SDK and undici, both loaded on first use)", async () => {
    const context = () => new InvocationContext({ logHandler() {} });
    const basic = Buffer.from("admin:functions-bundle-password").toString("base64");
    const token = await bundle.tokenHandler(
      new HttpRequest({
        method: "GET",
        url: "http://func.test/token?service=stowage&scope=repository:fnb/app:push,pull",
        headers: { authorization: `Basic ${basic}` },
      }),
      context(),
    );
    assert.equal(token.status, 200);
    const bearer = `Bearer ${((await bodyOf(token).json()) as { token: string }).token}`;
    const layer = randomBytes(200_000);
    const digest = `sha256:${createHash("sha256").update(layer).digest("hex")}`;
    const pushed = await bundle.registryHandler(
      new HttpRequest({
        method: "POST",
        url: `http://func.test/v2/fnb/app/blobs/uploads/?digest=${digest}`,
        headers: { authorization: bearer, "content-type": "application/octet-stream" },
        body: { bytes: layer },
      }),
      context(),
    );
    assert.equal(pushed.status, 201);
    const pulled = await bundle.registryHandler(
      new HttpRequest({
        method: "GET",
        url: `http://func.test/v2/fnb/app/blobs/${digest}`,
        headers: { authorization: bearer },
      }),
      context(),
    );
    assert.equal(pulled.status, 200);
    assert.deepEqual(Buffer.from(await bodyOf(pulled).arrayBuffer()), layer);
  });
});
