/* global process, URL */
// Bundles what a host loads at a cold start, with esbuild (ESM, code splitting):
//
//   dist/server.mjs + dist/server-chunks/      `npm start`, the Dockerfile, the release's ./stowage
//   dist/functions.mjs + dist/functions-chunks/ the Functions app (package.json "main")
//
// Modules that are imported with `import()` (Key Vault, @azure/identity, prom-client, the
// storage queue SDK, the web UI) land in chunks loaded on first use, so a start without them
// neither parses nor keeps their code. The Functions entry imports every functions/*.ts; the
// app behind them is a chunk of its own (shared/adapters/functions-app.ts).
import { build } from "esbuild";
import { readdirSync, rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The table SDK's XML support, loaded only if an XML answer arrives (shared/storage/azure/tables-xml.ts). */
const lazyTableXml = {
  name: "lazy-table-xml",
  setup(builder) {
    const shim = fileURLToPath(new URL("../shared/storage/azure/tables-xml.ts", import.meta.url));
    builder.onResolve({ filter: /^@azure\/core-xml$/ }, ({ importer }) =>
      /[\\/]node_modules[\\/]@azure[\\/]data-tables[\\/]/.test(importer) ? { path: shim } : undefined,
    );
  },
};

const common = {
  bundle: true,
  platform: "node",
  target: "node20",
  format: "esm",
  splitting: true,
  outdir: "dist",
  outExtension: { ".js": ".mjs" },
  // the bundled CommonJS packages call require() for Node's built-in modules
  banner: {
    js: "import { createRequire as __stowageRequire } from 'node:module'; const require = __stowageRequire(import.meta.url);",
  },
  // hash-wasm's "main" is a UMD build of every algorithm; its ES module lets esbuild keep SHA-256 only
  alias: { "hash-wasm": "hash-wasm/dist/index.esm.js" },
  // no comments or layout: less source to decode and parse at every start, and all of it ASCII
  // (one non-ASCII comment makes V8 hold and scan the whole module as a two-byte string);
  // names are kept, so stack traces still say which function
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: "warning",
  plugins: [lazyTableXml],
};

/**
 * An entry module importing every function file (so a new file under functions/ needs no list)
 * and re-exporting their handlers (so a test can call them through the bundle).
 */
const functionsEntry = {
  name: "functions-entry",
  setup(builder) {
    builder.onResolve({ filter: /^stowage:functions$/ }, () => ({ path: "functions", namespace: "functions-entry" }));
    builder.onLoad({ filter: /.*/, namespace: "functions-entry" }, () => ({
      contents: readdirSync("functions")
        .filter((file) => file.endsWith(".ts"))
        .sort()
        .map((file) => `export * from "./functions/${file}";`)
        .join("\n"),
      resolveDir: ".",
      loader: "ts",
    }));
  },
};

const bundles = {
  server: { entryPoints: { server: "shared/server/main.ts" } },
  functions: {
    entryPoints: { functions: "stowage:functions" },
    // provided by the Functions worker at run time (it intercepts require), never installed
    external: ["@azure/functions-core"],
    plugins: [lazyTableXml, functionsEntry],
  },
};

// `node tools/bundle.mjs [server] [functions]`: both by default (the Dockerfile builds the server only)
const wanted = process.argv.length > 2 ? process.argv.slice(2) : Object.keys(bundles);
for (const name of wanted) {
  if (!(name in bundles)) throw new Error(`unknown bundle ${name} (server, functions)`);
  rmSync(`dist/${name}-chunks`, { recursive: true, force: true });
  await build({ ...common, ...bundles[name], chunkNames: `${name}-chunks/[name]-[hash]` });
}
