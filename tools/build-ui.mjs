/* global console */
// Bundles the web UI (shared/ui) into dist/ui with esbuild: one minified, content-hashed
// script and stylesheet, and manifest.json naming them for the server (shared/http/ui/ui-app.ts).
import { build } from "esbuild";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { basename } from "node:path";

const outdir = "dist/ui";
rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });
const result = await build({
  entryPoints: ["shared/ui/main.tsx"],
  bundle: true,
  minify: true,
  format: "esm",
  target: ["es2022"],
  jsx: "automatic",
  jsxImportSource: "preact",
  entryNames: "[name]-[hash]",
  outdir,
  metafile: true,
  legalComments: "none",
  logLevel: "warning",
});
const outputs = Object.entries(result.metafile.outputs);
const find = (ext) => {
  const found = outputs.find(([file]) => file.endsWith(ext));
  if (!found) throw new Error(`esbuild wrote no ${ext} file`);
  return { file: basename(found[0]), bytes: found[1].bytes };
};
const script = find(".js");
const style = find(".css");
writeFileSync(`${outdir}/manifest.json`, JSON.stringify({ script: script.file, style: style.file }, null, 2));
console.log(`web UI: ${script.file} ${script.bytes} B, ${style.file} ${style.bytes} B`);
