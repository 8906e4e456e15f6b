import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import * as coreXml from "@azure/core-xml";
import { parseXML, stringifyXML } from "../../shared/storage/azure/tables-xml.js";

const DIST = fileURLToPath(new URL("../../", import.meta.url));

/** What an Azure front end (or a proxy in front of it) may answer a table call with. */
const XML_ERROR =
  '<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code>' +
  "<Message>Server failed to authenticate the request.\nRequestId:1</Message></Error>";

/** fast-xml-parser's parser class, as esbuild writes it (names are kept). */
const XML_PARSER = /\bXMLParser=class\b|\bclass XMLParser\b/;

/** The one chunk of a bundle whose name starts with `prefix`. */
async function chunk(bundle: string, prefix: string): Promise<string> {
  const found = (await readdir(join(DIST, `${bundle}-chunks`))).filter((file) => file.startsWith(prefix));
  assert.equal(found.length, 1, `one ${prefix}* chunk`);
  return found[0] as string;
}

/** Every module a bundle entry loads before its first `import()`: the entry and its static imports. */
async function staticGraph(entry: string): Promise<string[]> {
  const seen = new Set<string>();
  const visit = async (file: string): Promise<void> => {
    if (seen.has(file)) return;
    seen.add(file);
    const source = await readFile(file, "utf8");
    for (const [, path] of source.matchAll(
      // `import {a} from "./x"`, `import * as a from`, `import a, {b} from`, and a bare `import "./x"`
      /(?:^|[;}\n])\s*import\s*(?:(?:\{[^}]*\}|\*\s+as\s+[\w$]+|[\w$]+)(?:\s*,\s*\{[^}]*\})?\s*from\s*)?"(\.[^"]+)"/g,
    )) {
      await visit(join(file, "..", path as string));
    }
  };
  await visit(entry);
  return [...seen];
}

describe("the table SDK's XML support, loaded on first use in the bundles", () => {
  it("parses an XML answer as @azure/core-xml does", async () => {
    assert.deepEqual(await parseXML(XML_ERROR), await coreXml.parseXML(XML_ERROR));
    assert.deepEqual(
      await parseXML(XML_ERROR, { includeRoot: true }),
      await coreXml.parseXML(XML_ERROR, { includeRoot: true }),
    );
  });

  it("refuses to build an XML body, saying why", () => {
    assert.throws(() => stringifyXML(), /table access policies/);
  });

  const bundles = [
    { name: "server", entry: async () => join(DIST, "server.mjs") },
    // the Functions app chunk, which the first request loads
    {
      name: "functions",
      entry: async () => join(DIST, "functions-chunks", await chunk("functions", "functions-startup-")),
    },
  ];
  for (const bundle of bundles) {
    it(`keeps the XML parser out of what the ${bundle.name} bundle loads at start, but in the bundle`, async () => {
      const graph = await staticGraph(await bundle.entry());
      assert.ok(graph.length > 1, "the entry imports chunks");
      for (const file of graph) assert.doesNotMatch(await readFile(file, "utf8"), XML_PARSER, file);
      const chunks = join(DIST, `${bundle.name}-chunks`);
      const sources = await Promise.all((await readdir(chunks)).map((file) => readFile(join(chunks, file), "utf8")));
      assert.ok(
        sources.some((source) => XML_PARSER.test(source)),
        "the blob SDK's XML parser is still bundled, in a chunk loaded on demand",
      );
    });
  }
});
