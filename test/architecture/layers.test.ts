import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { describe, it } from "node:test";
import ts from "typescript";

/**
 * The house rules, checked on the TypeScript sources with the compiler's own parser: which
 * layer may import which, where the Azure SDKs may be used, that the domain knows nothing of
 * HTTP, and that no import circle exists. Dependencies point one way:
 * adapters (functions, server, cli) -> app -> http -> domain -> ports <- storage implementations.
 */
const ROOT = process.cwd();

interface SourceFile {
  path: string;
  /** Project files it imports (resolved, with `.ts`). */
  imports: string[];
  /** Packages it imports. */
  packages: string[];
  text: string;
}

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

function parse(path: string): SourceFile {
  const text = readFileSync(join(ROOT, path), "utf8");
  const { importedFiles } = ts.preProcessFile(text, true, true);
  const imports: string[] = [];
  const packages: string[] = [];
  for (const { fileName } of importedFiles) {
    if (fileName.startsWith(".")) imports.push(normalize(join(dirname(path), fileName)).replace(/\.js$/, ".ts"));
    else packages.push(fileName);
  }
  return { path, imports, packages, text };
}

const files = [...sources("shared"), ...sources("functions")].map(parse);
const under = (folder: string) => (file: { path: string } | string) =>
  (typeof file === "string" ? file : file.path).startsWith(`${folder}/`);
const DOMAIN = ["shared/registry", "shared/auth", "shared/events", "shared/webhooks"];
const inDomain = (path: string) => DOMAIN.some((folder) => under(folder)(path));

function violations(filter: (file: SourceFile) => boolean, forbidden: (target: string) => boolean): string[] {
  return files
    .filter(filter)
    .flatMap((file) => file.imports.filter(forbidden).map((target) => `${file.path} -> ${target}`));
}

describe("architecture: dependencies point one way", () => {
  it("only storage/azure uses the Azure storage, Key Vault and identity SDKs and their download transport", () => {
    const sdk = /^(@azure\/(storage-|data-tables|keyvault-|identity|core-)|undici$)/;
    const users = files.filter((f) => f.packages.some((p) => sdk.test(p))).map((f) => f.path);
    assert.deepEqual(
      users.filter((path) => !under("shared/storage/azure")(path)),
      [],
    );
  });

  it("only functions/ and the Functions adapter use @azure/functions", () => {
    const users = files.filter((f) => f.packages.includes("@azure/functions")).map((f) => f.path);
    assert.deepEqual(
      users.filter((path) => !under("functions")(path) && !under("shared/adapters")(path)),
      [],
    );
  });

  it("the domain imports no HTTP, adapter, app or storage implementation, and uses no Request or Response", () => {
    const outside = [
      "shared/http",
      "shared/adapters",
      "shared/server",
      "shared/cli",
      "shared/app",
      "shared/storage/azure",
      "shared/storage/local",
    ];
    assert.deepEqual(
      violations(
        (f) => inDomain(f.path),
        (t) => outside.some((folder) => under(folder)(t)),
      ),
      [],
    );
    const webTypes = files
      .filter((f) => inDomain(f.path))
      .filter((f) => /\b(Request|Response|Headers)\b(?!["'])/.test(stripComments(f.text)))
      .map((f) => f.path);
    assert.deepEqual(webTypes, []);
  });

  it("ports import only ports; storage implementations import only ports and lib", () => {
    assert.deepEqual(
      violations(under("shared/storage/ports"), (t) => !under("shared/storage/ports")(t)),
      [],
    );
    const allowed = (t: string) => under("shared/storage")(t) || under("shared/lib")(t);
    assert.deepEqual(
      violations(under("shared/storage"), (t) => !allowed(t)),
      [],
    );
  });

  it("lib imports nothing of the project; http imports no adapter, app, CLI or storage implementation", () => {
    assert.deepEqual(
      violations(under("shared/lib"), (t) => !under("shared/lib")(t)),
      [],
    );
    const above = [
      "shared/adapters",
      "shared/server",
      "shared/cli",
      "shared/app",
      "shared/storage/azure",
      "shared/storage/local",
    ];
    assert.deepEqual(
      violations(under("shared/http"), (t) => above.some((folder) => under(folder)(t))),
      [],
    );
  });

  it("only the adapters and processes (functions, adapters, server, cli) import the composition root", () => {
    const callers = ["functions", "shared/adapters", "shared/server", "shared/cli", "shared/app"];
    assert.deepEqual(
      violations((f) => !callers.some((folder) => under(folder)(f.path)), under("shared/app")),
      [],
    );
  });

  it("has no import circle", () => {
    assert.deepEqual(circles(), []);
  });
});

/** Strongly connected components of more than one file (Tarjan), each as a readable loop. */
function circles(): string[] {
  const graph = new Map(files.map((f) => [f.path, f.imports.filter((t) => files.some((g) => g.path === t))]));
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[] = [];
  let counter = 0;
  const visit = (node: string) => {
    index.set(node, counter);
    low.set(node, counter++);
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node) as number, low.get(next) as number));
      } else if (onStack.has(next)) low.set(node, Math.min(low.get(node) as number, index.get(next) as number));
    }
    if (low.get(node) === index.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop() as string;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      if (component.length > 1) found.push(component.map((p) => relative("shared", p)).join(" <-> "));
    }
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/\/\/.*$/gm, "");
}
