import assert from "node:assert/strict";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test, type TestContext } from "node:test";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { startAzurite, type AzuriteInstance } from "../../shared/server/azurite.js";
import { startContainerd } from "../e2e/containerd.js";
import { writeOciLayout, type OciImage } from "../e2e/oci-image.js";
import { requireBinaries, run, searchPath } from "../e2e/processes.js";
import { startServerProcess, type ServerProcess } from "../e2e/server-process.js";

/**
 * The web UI in a real headless Chromium (Debian's, driven by playwright-core; never a
 * downloaded browser) against the Node server process over Azurite. Screenshots of every page
 * go to test-output/ui/. Under CI a missing chromium or containerd is a failure, not a skip.
 */
const CHROMIUM = "/usr/bin/chromium";
const SCREENSHOTS = join(process.cwd(), "test-output", "ui");
const STEP_MS = 30_000;

describe("web UI in Chromium", { timeout: 10 * 60_000 }, () => {
  let azurite: AzuriteInstance | undefined;
  let server: ServerProcess | undefined;
  let context: BrowserContext | undefined;
  let work = "";
  let image: OciImage;
  const admin = () => `Basic ${Buffer.from(`admin:${registry().adminPassword}`).toString("base64")}`;
  const registry = () => {
    if (!server) throw new Error("server not started");
    return server;
  };

  before(async () => {
    work = await mkdtemp(join(tmpdir(), "stw-ui-"));
    await mkdir(SCREENSHOTS, { recursive: true });
    azurite = await startAzurite();
    server = await startServerProcess({ connectionString: azurite.connectionString });
    image = await writeOciLayout(join(work, "image"), { tag: "1.0", layerKiB: 96, layerCount: 2 });
    await pushLayout("demo/web", "1.0");
    await pushLayout("demo/web", "old");
    await pushReferrer("demo/web", image.manifestDigest);
    await pushLayout("other/tool", "1");
    await createUser("viewer", "viewer-password", ["other/*:pull"]);
  });

  after(async () => {
    await context?.close();
    await server?.stop();
    await azurite?.stop();
    if (work) await rm(work, { recursive: true, force: true, maxRetries: 3 });
  });

  async function v2(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set("authorization", admin());
    return fetch(`${registry().url}/v2/${path}`, { ...init, headers });
  }

  /** Pushes the OCI layout's blobs and manifest with Basic credentials (as `curl -u` would). */
  async function pushLayout(repository: string, tag: string): Promise<void> {
    for (const [digest, data] of image.blobs) {
      if (digest === image.manifestDigest) continue;
      const response = await v2(`${repository}/blobs/uploads/?digest=${digest}`, { method: "POST", body: data });
      assert.equal(response.status, 201, `blob ${digest}: ${await response.text()}`);
    }
    const response = await v2(`${repository}/manifests/${tag}`, {
      method: "PUT",
      headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
      body: image.manifest,
    });
    assert.equal(response.status, 201, await response.text());
  }

  /** An SBOM-like artifact naming the image as its subject (what oras or cosign push). */
  async function pushReferrer(repository: string, subject: string): Promise<void> {
    const empty = Buffer.from("{}");
    const emptyDigest = `sha256:${(await import("node:crypto")).createHash("sha256").update(empty).digest("hex")}`;
    await v2(`${repository}/blobs/uploads/?digest=${emptyDigest}`, { method: "POST", body: empty });
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      artifactType: "application/spdx+json",
      config: { mediaType: "application/vnd.oci.empty.v1+json", digest: emptyDigest, size: 2 },
      layers: [{ mediaType: "application/vnd.oci.empty.v1+json", digest: emptyDigest, size: 2 }],
      subject: {
        mediaType: "application/vnd.oci.image.manifest.v1+json",
        digest: subject,
        size: image.manifest.length,
      },
    });
    const response = await v2(`${repository}/manifests/sbom`, {
      method: "PUT",
      headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
      body: manifest,
    });
    assert.equal(response.status, 201, await response.text());
  }

  async function createUser(name: string, password: string, access: string[]): Promise<void> {
    const response = await fetch(`${registry().url}/api/v1/admin/users`, {
      method: "POST",
      headers: { authorization: admin(), "content-type": "application/json" },
      body: JSON.stringify({ name, password, access }),
    });
    assert.equal(response.status, 201, await response.text());
  }

  async function browser(): Promise<BrowserContext> {
    context ??= await chromium.launchPersistentContext(await mkdtemp(join(work, "profile-")), {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
      viewport: { width: 1280, height: 900 },
      permissions: ["clipboard-read", "clipboard-write"],
    });
    context.setDefaultTimeout(STEP_MS);
    return context;
  }

  async function shot(page: Page, name: string): Promise<void> {
    await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  }

  /** Runs a test's steps; on failure, a screenshot and the page's text for the message. */
  async function onPage(name: string, steps: (page: Page) => Promise<void>): Promise<void> {
    const page = await (await browser()).newPage();
    const problems: string[] = [];
    page.on("pageerror", (error) => problems.push(`script error: ${error.message}`));
    // (answers such as the 401 that asks for a token's scope are logged as failed loads: not script errors)
    page.on("console", (message) => {
      if (message.type() === "error" && !message.text().startsWith("Failed to load resource"))
        problems.push(`console: ${message.text()}`);
    });
    try {
      await steps(page);
      assert.deepEqual(problems, [], "the page ran without errors");
    } catch (error) {
      await page.screenshot({ path: join(SCREENSHOTS, `failed-${name}.png`), fullPage: true }).catch(() => {});
      const text = await page.innerText("body").catch(() => "");
      if (error instanceof Error) error.message += `\n--- page (${page.url()}) ---\n${text}\n${problems.join("\n")}`;
      throw error;
    } finally {
      await page.close();
    }
  }

  async function signIn(page: Page, user: string, password: string): Promise<void> {
    await page.goto(`${registry().url}/`);
    await page.getByLabel("User or access token name").fill(user);
    await page.getByLabel("Password or token secret").fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "Repositories" }).waitFor();
  }

  test("an administrator browses, copies a pull command, makes a pull secret, deletes a tag", async (t) => {
    if (!existsSync(CHROMIUM) && process.env.CI !== "true") return t.skip("chromium is not installed");
    await onPage("admin", async (page) => {
      const host = registry().host;

      await page.goto(`${registry().url}/`);
      await shot(page, "sign-in");
      await page.getByLabel("User or access token name").fill("admin");
      await page.getByLabel("Password or token secret").fill("wrong-password");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("alert").filter({ hasText: "invalid username or password" }).waitFor();
      await signIn(page, "admin", registry().adminPassword);

      // find the pushed image: filter the catalog by prefix
      await page.getByRole("link", { name: "other/tool" }).waitFor();
      // by keyboard: type into the labelled field, Enter submits
      await page.getByLabel("Name starts with").fill("demo/");
      await page.getByLabel("Name starts with").press("Enter");
      await page.getByRole("link", { name: "other/tool" }).waitFor({ state: "detached" });
      await page.getByRole("link", { name: "demo/web" }).waitFor();
      await page.getByLabel("Name starts with").fill("");
      await page.getByRole("button", { name: "Filter" }).click();
      await page.getByRole("link", { name: "other/tool" }).waitFor();
      await shot(page, "repositories");
      await page.getByRole("link", { name: "demo/web" }).click();

      // the repository: tags with digests, sizes, push times; copy `docker pull`
      const row = page.getByRole("row").filter({ has: page.getByRole("link", { name: "1.0", exact: true }) });
      await row.waitFor();
      await shot(page, "repository");
      await page.setViewportSize({ width: 390, height: 844 });
      await shot(page, "repository-phone");
      await page.setViewportSize({ width: 1280, height: 900 });
      await row.getByRole("button", { name: /^Pull by tag/ }).click();
      assert.equal(await page.evaluate<string>("navigator.clipboard.readText()"), `docker pull ${host}/demo/web:1.0`);
      await row.getByRole("button", { name: /^Pull by digest/ }).click();
      assert.equal(
        await page.evaluate<string>("navigator.clipboard.readText()"),
        `docker pull ${host}/demo/web@${image.manifestDigest}`,
      );

      // the manifest: layers, configuration, referrers by artifact type
      await row.getByRole("link", { name: "1.0", exact: true }).click();
      await page.getByRole("heading", { name: /^Layers \(2,/ }).waitFor();
      await page.getByRole("heading", { name: "Referrers (1)" }).waitFor();
      await page.getByRole("heading", { name: "application/spdx+json" }).waitFor();
      await page.getByText('["/hello0.txt"]').waitFor();
      assert.equal(await page.locator(".layers li").count(), 2);
      await shot(page, "manifest");

      // delete a tag, after confirming
      await page.getByRole("link", { name: "demo/web" }).click();
      const old = page.getByRole("row").filter({ has: page.getByRole("link", { name: "old", exact: true }) });
      await old.getByRole("button", { name: "Delete tag" }).click();
      await old.getByRole("button", { name: "Yes, delete" }).waitFor();
      await page.keyboard.press("Enter"); // the confirmation has the focus
      await old.waitFor({ state: "detached" });
      const gone = await v2("demo/web/manifests/old", {
        method: "HEAD",
        headers: { accept: "application/vnd.oci.image.manifest.v1+json" },
      });
      assert.equal(gone.status, 404, "the tag is deleted");
      const kept = await v2("demo/web/manifests/1.0", {
        method: "HEAD",
        headers: { accept: "application/vnd.oci.image.manifest.v1+json" },
      });
      assert.equal(kept.status, 200, "the manifest and its other tags stay");

      // admin: a pull-only token, its kubectl command and Deployment
      await page.getByRole("link", { name: "Administration" }).click();
      await page.getByLabel("Name", { exact: true }).nth(1).fill("k8s-nodes");
      await page.getByLabel(/^Rules \(one per line, e\.g\./).fill("demo/*:pull");
      await page.getByLabel(/^Expires after/).fill("30");
      await page.getByRole("button", { name: "Create token" }).click();
      const kubectl = await page.getByRole("textbox", { name: "kubectl command" }).inputValue();
      const yaml = await page.getByRole("textbox", { name: "Deployment using it" }).inputValue();
      await page.getByRole("row").filter({ hasText: "k8s-nodes" }).waitFor();
      await shot(page, "admin");
      const parsed =
        /^kubectl create secret docker-registry stowage-pull --docker-server=(\S+) --docker-username=(\S+) --docker-password=(\S+)$/.exec(
          kubectl,
        );
      assert.ok(parsed, kubectl);
      assert.equal(parsed[1], host);
      assert.equal(parsed[2], "k8s-nodes");
      // imagePullSecrets sits in the pod template's spec, a sibling of containers
      const podSpec = "\n    spec:\n      imagePullSecrets:\n        - name: stowage-pull\n      containers:\n";
      assert.ok(yaml.indexOf(podSpec) > yaml.indexOf("\n  template:\n"), yaml);
      await pullWithContainerd(t, host, `${parsed[2]}:${parsed[3]}`);

      await page.getByRole("button", { name: "Sign out" }).click();
      await page.getByRole("button", { name: "Sign in" }).waitFor();
    });
  });

  /** What a Kubernetes node does with that secret: containerd pulls with its credentials. */
  async function pullWithContainerd(t: TestContext, host: string, credentials: string) {
    if (!requireBinaries(t, "containerd", "ctr")) return;
    const env = { PATH: searchPath(), HOME: work, TMPDIR: work };
    const { daemon, socket } = await startContainerd(join(work, "ctrd"), env, { name: "ui-pull-secret" });
    try {
      const ref = `${host}/demo/web:1.0`;
      await run("ctr", ["--address", socket, "images", "pull", "--plain-http", "--user", credentials, ref], {
        env,
        timeoutMs: 180_000,
      });
      const listing = (await run("ctr", ["--address", socket, "images", "ls"], { env })).stdout;
      assert.match(listing, new RegExp(`${ref.replace(/[.]/g, "\\.")}\\s.*${image.manifestDigest}`));
    } catch (error) {
      if (error instanceof Error) error.message += `\n--- containerd log ---\n${daemon.log()}`;
      throw error;
    } finally {
      await daemon.stop();
    }
  }

  test("a user without rights sees neither the repository nor the admin pages", async (t) => {
    if (!existsSync(CHROMIUM) && process.env.CI !== "true") return t.skip("chromium is not installed");
    await onPage("viewer", async (page) => {
      await signIn(page, "viewer", "viewer-password");
      await page.getByRole("link", { name: "other/tool" }).waitFor();
      assert.equal(await page.getByRole("link", { name: "demo/web" }).count(), 0, "demo/web is not listed");
      assert.equal(await page.getByRole("link", { name: "Administration" }).count(), 0, "no admin link");
      await shot(page, "viewer-repositories");
      await page.goto(`${registry().url}/#/repository/demo%2Fweb`);
      await page.getByRole("alert").waitFor();
      assert.equal(await page.getByRole("row").count(), 0, "no tags shown");
      await page.goto(`${registry().url}/#/admin`);
      await page.getByText("Only administrators see this page.").waitFor();
      const api = await fetch(`${registry().url}/api/v1/admin/identities`, {
        headers: { authorization: `Basic ${Buffer.from("viewer:viewer-password").toString("base64")}` },
      });
      assert.equal(api.status, 403, "and the API refuses too");
    });
  });
});
