import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * A stand-in for Azure Key Vault's secrets REST API, on 127.0.0.1 over HTTPS, for testing the
 * real @azure/keyvault-secrets SDK. There is no Key Vault emulator (Azurite has none), so this
 * speaks the subset the SDK uses here: the bearer challenge (401 + `WWW-Authenticate:
 * Bearer authorization=..., resource=...`), PUT /secrets/{name}, GET /secrets/{name}[/{version}],
 * and GET /secrets/{name}/versions with nextLink paging. Its certificate is self-signed,
 * made with openssl for the run; clients trust it through an HTTPS agent (`ca`).
 */
export interface FakeKeyVault {
  /** `https://127.0.0.1:PORT` */
  url: string;
  port: number;
  /** The certificate to trust (PEM). */
  ca: string;
  /** The token a client must present (what the fake credential hands out). */
  accessToken: string;
  /** api-version of every request seen. */
  apiVersions: string[];
  /** Versions stored per secret, oldest first. */
  secrets: Map<string, StoredVersion[]>;
  /** The resource the challenge names (the SDK checks it against the vault's domain). */
  resource: string;
  close(): Promise<void>;
}

export interface StoredVersion {
  version: string;
  value: string;
  created: number;
  enabled: boolean;
}

export async function startFakeKeyVault(
  options: { resource?: string; hostnames?: string[] } = {},
): Promise<FakeKeyVault> {
  const dir = await mkdtemp(join(tmpdir(), "stw-kv-"));
  const names = ["localhost", ...(options.hostnames ?? [])].map((n) => `DNS:${n}`).join(",");
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-days",
      "1",
      "-keyout",
      join(dir, "key.pem"),
      "-out",
      join(dir, "cert.pem"),
      "-subj",
      "/CN=fake-key-vault",
      "-addext",
      `subjectAltName=IP:127.0.0.1,${names}`,
    ],
    { stdio: "ignore" },
  );
  const [key, cert] = await Promise.all([
    readFile(join(dir, "key.pem"), "utf8"),
    readFile(join(dir, "cert.pem"), "utf8"),
  ]);
  await rm(dir, { recursive: true, force: true });

  const vault: FakeKeyVault = {
    url: "",
    port: 0,
    ca: cert,
    accessToken: randomBytes(12).toString("hex"),
    apiVersions: [],
    secrets: new Map(),
    resource: options.resource ?? "https://vault.azure.net",
    close: async () => undefined,
  };
  const server = createServer({ key, cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => handle(vault, req, res, Buffer.concat(chunks).toString()));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  vault.port = (server.address() as AddressInfo).port;
  vault.url = `https://127.0.0.1:${vault.port}`;
  vault.close = () => new Promise((resolve) => server.close(() => resolve()));
  server.unref();
  return vault;
}

function handle(vault: FakeKeyVault, req: IncomingMessage, res: ServerResponse, body: string): void {
  const url = new URL(req.url ?? "/", `https://${req.headers.host}`);
  const base = `https://${req.headers.host}`;
  vault.apiVersions.push(url.searchParams.get("api-version") ?? "");
  if (req.headers.authorization !== `Bearer ${vault.accessToken}`) {
    // Key Vault's challenge: where to get a token, and for which resource
    res.writeHead(401, {
      "WWW-Authenticate": `Bearer authorization="https://login.microsoftonline.com/fake-tenant", resource="${vault.resource}"`,
      "Content-Type": "application/json; charset=utf-8",
    });
    const message = req.headers.authorization
      ? "AKV10032: Invalid issuer."
      : "AKV10000: Request is missing a Bearer or PoP token.";
    res.end(JSON.stringify({ error: { code: "Unauthorized", message } }));
    return;
  }
  const reply = (status: number, value: unknown) => {
    res.writeHead(status, { "Content-Type": "application/json; charset=utf-8" });
    res.end(JSON.stringify(value));
  };
  const notFound = (name: string) =>
    reply(404, {
      error: { code: "SecretNotFound", message: `A secret with (name/id) ${name} was not found in this key vault.` },
    });
  const bundle = (name: string, v: StoredVersion, withValue: boolean) => ({
    ...(withValue ? { value: v.value } : {}),
    id: `${base}/secrets/${name}/${v.version}`,
    attributes: { enabled: v.enabled, created: v.created, updated: v.created, recoveryLevel: "Recoverable+Purgeable" },
  });

  const [, collection, name, rest] = url.pathname.split("/");
  if (collection !== "secrets" || !name)
    return reply(400, { error: { code: "BadParameter", message: "unsupported path" } });
  const versions = vault.secrets.get(name) ?? [];
  if (req.method === "PUT" && rest === undefined) {
    const { value } = JSON.parse(body) as { value: string };
    // created: seconds, as Key Vault reports it; kept increasing so order is unambiguous
    const created = Math.max(Math.floor(Date.now() / 1000), (versions.at(-1)?.created ?? 0) + 1);
    const stored: StoredVersion = { version: randomBytes(16).toString("hex"), value, created, enabled: true };
    vault.secrets.set(name, [...versions, stored]);
    return reply(200, bundle(name, stored, true));
  }
  if (req.method === "GET" && rest === "versions") {
    // one item per page, to make the SDK follow nextLink
    const skip = Number(url.searchParams.get("$skiptoken") ?? 0);
    const page = versions.slice(skip, skip + 1).map((v) => bundle(name, v, false));
    const next =
      skip + 1 < versions.length
        ? `${base}/secrets/${name}/versions?api-version=${url.searchParams.get("api-version")}&$skiptoken=${skip + 1}`
        : null;
    if (versions.length === 0) return notFound(name);
    return reply(200, { value: page, nextLink: next });
  }
  if (req.method === "GET") {
    const wanted = rest ? versions.find((v) => v.version === rest) : versions.filter((v) => v.enabled).at(-1);
    if (!wanted) return notFound(name);
    if (!wanted.enabled)
      return reply(403, {
        error: { code: "Forbidden", message: "Operation get is not allowed on a disabled secret." },
      });
    return reply(200, bundle(name, wanted, true));
  }
  reply(405, { error: { code: "MethodNotAllowed", message: req.method } });
}
