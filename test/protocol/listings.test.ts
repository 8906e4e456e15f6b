import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { useAzurite } from "../helpers/azurite.js";
import { createTestRegistry, type TestRegistry } from "../helpers/registry.js";
import { imageManifest, sha256 } from "../helpers/content.js";
import { assertError, OCI_MANIFEST, pushBlob, pushImage, pushManifest } from "./support.js";

describe("OCI Distribution: content discovery", () => {
  const azurite = useAzurite();
  let registry: TestRegistry;
  /** Holds only the repositories pushed here, so the catalog's content is known. */
  let catalogRegistry: TestRegistry;
  /** Never returns more than 2 items per page, whatever the client asks. */
  let capped: TestRegistry;

  const repo = "list/tags";
  /** Pushed in this (scrambled) order; listed in ASCII order. */
  const pushed = ["latest", "b", "1.0", "a", "A", "c", "v1_0", "1.0-rc"];
  const sorted = [...pushed].sort();
  const repositories = ["zeta", "alpha/one", "alpha-beta", "alpha.two", "alpha/one/deep", "beta"];

  before(async () => {
    [registry, catalogRegistry, capped] = await Promise.all([
      createTestRegistry(azurite().connectionString),
      createTestRegistry(azurite().connectionString),
      createTestRegistry(azurite().connectionString, { STOWAGE_MAX_PAGE_SIZE: "2" }),
    ]);
    const small = await pushImage(capped, "capped/repo", "t1");
    await pushManifest(capped, "capped/repo", "t2", small.manifest, OCI_MANIFEST);
    await pushManifest(capped, "capped/repo", "t3", small.manifest, OCI_MANIFEST);
    await pushImage(capped, "capped/other", "latest");
    await pushImage(capped, "capped/third", "latest");
    const { manifest } = await pushImage(registry, repo, pushed[0] as string);
    for (const tag of pushed.slice(1)) await pushManifest(registry, repo, tag, manifest, OCI_MANIFEST);
    await Promise.all(repositories.map((name) => pushImage(catalogRegistry, name, "latest")));
  });

  interface Listed {
    status: number;
    link: string | null;
    body: Record<string, unknown>;
  }

  async function list(reg: TestRegistry, path: string): Promise<Listed> {
    const response = await reg.fetch(path);
    assert.equal(response.status, 200, `GET ${path}: ${response.status}`);
    assert.match(response.headers.get("content-type") ?? "", /^application\/json/);
    return {
      status: response.status,
      link: response.headers.get("link"),
      body: (await response.json()) as Record<string, unknown>,
    };
  }

  /** The target of `Link: <url>; rel="next"`, as a path relative to the registry root. */
  function nextOf(link: string | null): string | undefined {
    if (link === null) return undefined;
    const match = /^<([^>]+)>;\s*rel="next"$/.exec(link);
    assert.ok(match, `malformed Link header: ${link}`);
    const url = new URL(match[1] as string, "http://registry.test");
    return url.pathname + url.search;
  }

  /** Follows Link headers from `start`, returning every page's items. */
  async function walk(reg: TestRegistry, start: string, key: "tags" | "repositories"): Promise<string[][]> {
    const pages: string[][] = [];
    let path: string | undefined = start;
    while (path !== undefined) {
      assert.ok(pages.length < 50, "pagination does not terminate");
      const page = await list(reg, path);
      pages.push(page.body[key] as string[]);
      path = nextOf(page.link);
    }
    return pages;
  }

  describe("Listing tags (end-8a: GET /v2/<name>/tags/list)", () => {
    it("answers 200 with the repository name and every tag in lexical (ASCII) order", async () => {
      const page = await list(registry, `/v2/${repo}/tags/list`);
      assert.deepEqual(page.body, { name: repo, tags: sorted });
      assert.equal(page.link, null);
    });

    it("?n= returns the first n tags, with a Link to the next page", async () => {
      const page = await list(registry, `/v2/${repo}/tags/list?n=3`);
      assert.deepEqual(page.body.tags, sorted.slice(0, 3));
      const next = nextOf(page.link);
      assert.ok(next, "no Link header although more tags follow");
      const query = new URL(next, "http://registry.test").searchParams;
      assert.equal(query.get("n"), "3");
      assert.equal(query.get("last"), sorted[2]);
    });

    it("following the Link headers visits every tag exactly once, in order", async () => {
      const pages = await walk(registry, `/v2/${repo}/tags/list?n=3`, "tags");
      assert.deepEqual(pages.flat(), sorted);
      assert.deepEqual(
        pages.map((p) => p.length),
        [3, 3, 2],
      );
    });

    it("?last= returns only the tags after the given one", async () => {
      const page = await list(registry, `/v2/${repo}/tags/list?last=a`);
      assert.deepEqual(page.body.tags, sorted.slice(sorted.indexOf("a") + 1));
    });

    it("?n=&last= combine", async () => {
      const page = await list(registry, `/v2/${repo}/tags/list?n=2&last=A`);
      assert.deepEqual(page.body.tags, sorted.slice(sorted.indexOf("A") + 1, sorted.indexOf("A") + 3));
      assert.ok(page.link);
    });

    it("?last= need not name an existing tag", async () => {
      const page = await list(registry, `/v2/${repo}/tags/list?last=b0`);
      assert.deepEqual(
        page.body.tags,
        sorted.filter((t) => t > "b0"),
      );
    });

    it("?last= past the final tag gives an empty list, without a Link", async () => {
      const page = await list(registry, `/v2/${repo}/tags/list?last=zzz`);
      assert.deepEqual(page.body, { name: repo, tags: [] });
      assert.equal(page.link, null);
    });

    it("?n=0 returns an empty list and no Link header", async () => {
      const page = await list(registry, `/v2/${repo}/tags/list?n=0`);
      assert.deepEqual(page.body, { name: repo, tags: [] });
      assert.equal(page.link, null);
    });

    it("?n= at least the number of tags returns them all without a Link", async () => {
      const exact = await list(registry, `/v2/${repo}/tags/list?n=${sorted.length}`);
      assert.deepEqual(exact.body.tags, sorted);
      assert.equal(exact.link, null);
      const more = await list(registry, `/v2/${repo}/tags/list?n=100`);
      assert.deepEqual(more.body.tags, sorted);
      assert.equal(more.link, null);
    });

    it("a non-numeric ?n= is 400 PAGINATION_NUMBER_INVALID", async () => {
      await assertError(await registry.fetch(`/v2/${repo}/tags/list?n=ten`), 400, "PAGINATION_NUMBER_INVALID");
      await assertError(await registry.fetch(`/v2/${repo}/tags/list?n=-1`), 400, "PAGINATION_NUMBER_INVALID");
    });

    it("an unknown repository is 404 NAME_UNKNOWN, whatever the pagination", async () => {
      for (const query of ["", "?n=0", "?n=5", "?last=a"]) {
        await assertError(await registry.fetch(`/v2/no/such/repository/tags/list${query}`), 404, "NAME_UNKNOWN");
      }
    });

    it("a repository holding only untagged manifests answers 200 with an empty tag list", async () => {
      const config = await pushBlob(registry, "list/untagged", "{}");
      const manifest = imageManifest({ digest: config, size: 2 }, []);
      await pushManifest(registry, "list/untagged", sha256(manifest), manifest, OCI_MANIFEST);
      const page = await list(registry, "/v2/list/untagged/tags/list");
      assert.deepEqual(page.body, { name: "list/untagged", tags: [] });
    });
  });

  describe("Listing repositories (GET /v2/_catalog)", () => {
    const all = [...repositories].sort();

    it("answers 200 with every repository in lexical order", async () => {
      const page = await list(catalogRegistry, "/v2/_catalog");
      assert.deepEqual(page.body, { repositories: all });
      assert.equal(page.link, null);
    });

    it("?n= paginates with a Link header, visiting every repository once", async () => {
      const first = await list(catalogRegistry, "/v2/_catalog?n=4");
      assert.deepEqual(first.body.repositories, all.slice(0, 4));
      assert.ok(first.link);
      const pages = await walk(catalogRegistry, "/v2/_catalog?n=4", "repositories");
      assert.deepEqual(pages.flat(), all);
      assert.deepEqual(
        pages.map((p) => p.length),
        [4, 2],
      );
    });

    it("?last= continues after a repository name containing `/`", async () => {
      const page = await list(catalogRegistry, "/v2/_catalog?last=alpha/one");
      assert.deepEqual(page.body.repositories, all.slice(all.indexOf("alpha/one") + 1));
    });

    it("?n=0 returns an empty list and no Link header", async () => {
      const page = await list(catalogRegistry, "/v2/_catalog?n=0");
      assert.deepEqual(page.body, { repositories: [] });
      assert.equal(page.link, null);
    });

    it("a non-numeric ?n= is 400 PAGINATION_NUMBER_INVALID", async () => {
      await assertError(await catalogRegistry.fetch("/v2/_catalog?n=many"), 400, "PAGINATION_NUMBER_INVALID");
    });
  });

  describe("Registry page limits", () => {
    it("a tag list cut short by the registry's page limit says so with a Link, and the Link leads on", async () => {
      for (const path of ["/v2/capped/repo/tags/list", "/v2/capped/repo/tags/list?n=10"]) {
        const first = await list(capped, path);
        assert.deepEqual(first.body.tags, ["t1", "t2"]);
        assert.ok(first.link, `${path}: fewer tags than asked for, but no Link`);
      }
      const pages = await walk(capped, "/v2/capped/repo/tags/list", "tags");
      assert.deepEqual(pages.flat(), ["t1", "t2", "t3"]);
    });

    it("the catalog is capped the same way, and its Link leads on", async () => {
      const pages = await walk(capped, "/v2/_catalog?n=50", "repositories");
      assert.deepEqual(
        pages.map((p) => p.length),
        [2, 1],
      );
      assert.deepEqual(pages.flat(), ["capped/other", "capped/repo", "capped/third"]);
    });
  });
});
