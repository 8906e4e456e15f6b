import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { answering } from "../answering.js";
import type { FetchHandler, RequestObserver } from "../fetch-handler.js";
import { HttpError, methodNotAllowed } from "../http-error.js";
import { UI_ASSET_PREFIX } from "./ui-paths.js";

/**
 * Where `npm run build` puts the UI bundle: dist/ui, seen from this module's compiled file
 * (dist/shared/http/ui), from a bundle's chunk (dist/server-chunks, dist/functions-chunks) or
 * from a bundle that inlines this module (dist/server.mjs).
 */
const ASSET_DIRS = ["../../../ui/", "../ui/", "./ui/"].map((path) => fileURLToPath(new URL(path, import.meta.url)));
export const DEFAULT_ASSETS_DIR =
  ASSET_DIRS.find((dir) => existsSync(join(dir, "manifest.json"))) ?? (ASSET_DIRS[0] as string);

/** Written by tools/build-ui.mjs next to the bundle: the content-hashed file names. */
interface BuildManifest {
  script: string;
  style: string;
}

const TYPES: Record<string, string> = { ".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8" };

/**
 * Nothing but this origin's own files may run or load, and the page may not be framed: the
 * bundle has no inline script or style, so the policy needs no `unsafe-*` exception.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

const SECURITY_HEADERS = {
  "Content-Security-Policy": CONTENT_SECURITY_POLICY,
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
};

/**
 * Serves the web UI: its one page at `/` and the bundled script and stylesheet under `/ui/`
 * (content-hashed names, cached for a year). Only the files the build listed are served, read
 * once into memory. The page is static: everything it shows comes from `/token`, `/v2/` and
 * `/api/` with the user's bearer token, so the same checks apply as for any client.
 */
export async function createUiApp(
  options: { assetsDir?: string; observe?: RequestObserver } = {},
): Promise<FetchHandler> {
  const dir = options.assetsDir ?? DEFAULT_ASSETS_DIR;
  let manifest: BuildManifest;
  try {
    manifest = JSON.parse(await readFile(`${dir}/manifest.json`, "utf8")) as BuildManifest;
  } catch {
    // compiled without the bundle (`tsc` alone): say so instead of failing every request with a 500
    return answering(async () => {
      throw new HttpError(404, "UNSUPPORTED", "the web UI is not built here (npm run build bundles it)");
    }, options.observe);
  }
  const assets = new Map<string, { body: Uint8Array; type: string }>();
  for (const file of [manifest.script, manifest.style]) {
    const type = TYPES[file.slice(file.lastIndexOf("."))] ?? "application/octet-stream";
    assets.set(`${UI_ASSET_PREFIX}${file}`, { body: await readFile(`${dir}/${file}`), type });
  }
  const page = new TextEncoder().encode(indexPage(manifest));

  return answering(async (request) => {
    if (request.method !== "GET" && request.method !== "HEAD") throw methodNotAllowed(request.method, ["GET", "HEAD"]);
    const path = new URL(request.url).pathname;
    const body = request.method === "HEAD" ? null : undefined;
    if (path === "/") {
      return new Response(body === null ? null : page, {
        headers: { ...SECURITY_HEADERS, "Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache" },
      });
    }
    const asset = assets.get(path);
    if (!asset) throw new HttpError(404, "UNSUPPORTED", "no such file", {}, { path });
    return new Response(body === null ? null : asset.body, {
      headers: {
        ...SECURITY_HEADERS,
        "Content-Type": asset.type,
        "Content-Length": String(asset.body.byteLength),
        "Cache-Control": "public, max-age=31536000, immutable",
      },
    });
  }, options.observe);
}

function indexPage(manifest: BuildManifest): string {
  return [
    "<!doctype html>",
    '<html lang="en">',
    "<head>",
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    "<title>Stowage</title>",
    '<link rel="icon" href="data:,">',
    `<link rel="stylesheet" href="${UI_ASSET_PREFIX}${manifest.style}">`,
    `<script type="module" src="${UI_ASSET_PREFIX}${manifest.script}"></script>`,
    "</head>",
    '<body><div id="app"><noscript>The Stowage web UI needs JavaScript.</noscript></div></body>',
    "</html>",
    "",
  ].join("\n");
}
