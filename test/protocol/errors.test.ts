import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { useAzurite } from "../helpers/azurite.js";
import { sha256 } from "../helpers/content.js";
import { createTestRegistry, type TestRegistry } from "../helpers/registry.js";
import { assertError, bytes, startUpload, withQuery } from "./support.js";

describe("OCI Distribution: errors", () => {
  const azurite = useAzurite();
  let registry: TestRegistry;
  let upload: string;

  before(async () => {
    registry = await createTestRegistry(azurite().connectionString);
    upload = await startUpload(registry, "errors/upload");
  });

  const digest = sha256("anything");

  /** Every endpoint that takes a repository name, as [method, path after the name]. */
  const endpoints: [string, string][] = [
    ["GET", "/tags/list"],
    ["GET", "/manifests/latest"],
    ["PUT", "/manifests/latest"],
    ["GET", `/blobs/${digest}`],
    ["POST", "/blobs/uploads/"],
    ["GET", `/blobs/uploads/${"0".repeat(32)}`],
  ];

  describe("Repository names are validated (NAME_INVALID)", () => {
    const invalid = [
      "Uppercase",
      "a//b",
      "trailing-",
      "-leading",
      ".dot",
      "a..b",
      "a/",
      "with:colon",
      "x".repeat(256),
      "sp%20ace",
    ];

    for (const name of invalid) {
      it(`rejects ${JSON.stringify(name.length > 40 ? `${name.slice(0, 10)}…(${name.length} chars)` : name)} with 400 NAME_INVALID on every endpoint`, async () => {
        for (const [method, rest] of endpoints) {
          const response = await registry.fetch(`/v2/${name}${rest}`, {
            method,
            ...(method === "PUT" ? { body: bytes("{}") } : {}),
          });
          await assertError(response, 400, "NAME_INVALID");
        }
      });
    }

    it("rejects a malformed percent-encoding in the name with 400 NAME_INVALID", async () => {
      await assertError(await registry.fetch("/v2/bad%ZZname/tags/list"), 400, "NAME_INVALID");
    });

    it("accepts every separator the grammar allows (., _, __, runs of -) and 255-character names", async () => {
      for (const name of ["a.b", "a_b", "a__b", "a---b", "a0/b1.c_d-e/f", "x".repeat(255)]) {
        // valid but unknown: the answer is about the repository, not its name
        await assertError(await registry.fetch(`/v2/${name}/tags/list`), 404, "NAME_UNKNOWN");
      }
    });

    it("rejects an invalid `from` repository on a mount", async () => {
      await assertError(
        await registry.fetch(`/v2/errors/mount/blobs/uploads/?mount=${digest}&from=UPPER`, { method: "POST" }),
        400,
        "NAME_INVALID",
      );
    });
  });

  describe("Digests are validated (DIGEST_INVALID, never a 500)", () => {
    const malformed = [
      "sha256:totallywrong",
      `sha256:${"a".repeat(63)}`,
      `sha256:${"A".repeat(64)}`,
      `sha512:${"a".repeat(64)}`,
      "sha256:",
      "notadigest",
      `SHA256:${"a".repeat(64)}`,
      "sha256%3Atotallywrong",
      "sha256:abc%",
    ];

    it("GET and HEAD of a blob by a malformed digest answer 400 DIGEST_INVALID (HEAD without a body)", async () => {
      for (const value of malformed) {
        await assertError(await registry.fetch(`/v2/errors/repo/blobs/${value}`), 400, "DIGEST_INVALID");
        const head = await registry.fetch(`/v2/errors/repo/blobs/${value}`, { method: "HEAD" });
        assert.equal(head.status, 400, `HEAD ${value}`);
        assert.equal(await head.text(), "");
      }
    });

    it("GET of a manifest by a malformed digest answers 400 DIGEST_INVALID", async () => {
      for (const value of ["sha256:totallywrong", `sha256:${"a".repeat(63)}`, "sha256:"]) {
        await assertError(await registry.fetch(`/v2/errors/repo/manifests/${value}`), 400, "DIGEST_INVALID");
      }
    });

    it("a monolithic POST with a malformed ?digest= answers 400 DIGEST_INVALID", async () => {
      const response = await registry.fetch("/v2/errors/repo/blobs/uploads/?digest=sha256:totallywrong", {
        method: "POST",
        body: bytes("data"),
      });
      await assertError(response, 400, "DIGEST_INVALID");
    });

    it("closing an upload with a malformed ?digest= answers 400 DIGEST_INVALID and keeps the session", async () => {
      const response = await registry.fetch(withQuery(upload, "digest=sha256:totallywrong"), { method: "PUT" });
      await assertError(response, 400, "DIGEST_INVALID");
      assert.equal((await registry.fetch(upload)).status, 204);
    });

    it("a mount with a malformed ?mount= answers 400 DIGEST_INVALID", async () => {
      await assertError(
        await registry.fetch("/v2/errors/repo/blobs/uploads/?mount=sha256:totallywrong&from=errors/other", {
          method: "POST",
        }),
        400,
        "DIGEST_INVALID",
      );
    });

    it("an upload id with a malformed percent-encoding is 404 BLOB_UPLOAD_UNKNOWN", async () => {
      await assertError(await registry.fetch("/v2/errors/repo/blobs/uploads/%ZZ"), 404, "BLOB_UPLOAD_UNKNOWN");
    });
  });

  describe("Digest algorithms the registry does not implement (UNSUPPORTED)", () => {
    const md5 = "md5:d41d8cd98f00b204e9800998ecf8427e";

    it("GET of a blob by an md5 digest answers 415 UNSUPPORTED", async () => {
      await assertError(await registry.fetch(`/v2/errors/repo/blobs/${md5}`), 415, "UNSUPPORTED");
    });

    it("GET of a manifest by an md5 digest answers 415 UNSUPPORTED", async () => {
      await assertError(await registry.fetch(`/v2/errors/repo/manifests/${md5}`), 415, "UNSUPPORTED");
    });

    it("an upload by an md5 digest answers 415 UNSUPPORTED, monolithic or closing a session", async () => {
      await assertError(
        await registry.fetch(`/v2/errors/repo/blobs/uploads/?digest=${md5}`, { method: "POST" }),
        415,
        "UNSUPPORTED",
      );
      await assertError(
        await registry.fetch(withQuery(upload, `digest=${md5}`), { method: "PUT" }),
        415,
        "UNSUPPORTED",
      );
    });
  });

  describe("Unknown endpoints and methods", () => {
    it("a path outside the API (and the web UI at `/`) answers 404 UNSUPPORTED with an error body", async () => {
      for (const path of ["/index.html", "/v1/", "/v3/", "/v2/repo/unknown", "/api/v1/unknown"]) {
        await assertError(await registry.fetch(path), 404, "UNSUPPORTED");
      }
    });

    it("an empty reference or digest names nothing: 404 MANIFEST_UNKNOWN or BLOB_UNKNOWN", async () => {
      await assertError(await registry.fetch("/v2/errors/repo/manifests/"), 404, "MANIFEST_UNKNOWN");
      await assertError(await registry.fetch("/v2/errors/repo/blobs/"), 404, "BLOB_UNKNOWN");
      await assertError(await registry.fetch("/v2/errors/repo/blobs/", { method: "DELETE" }), 404, "BLOB_UNKNOWN");
      await assertError(
        await registry.fetch("/v2/errors/repo/manifests/", { method: "PUT", body: "{}" }),
        400,
        "TAG_INVALID",
      );
    });

    it("a method an endpoint does not support answers 405 with an Allow header", async () => {
      const cases: [string, string, string][] = [
        ["POST", "/v2/errors/repo/manifests/latest", "GET, HEAD, PUT, DELETE"],
        ["PUT", `/v2/errors/repo/blobs/${digest}`, "GET, HEAD, DELETE"],
        ["POST", `/v2/errors/repo/referrers/${digest}`, "GET"],
        ["POST", "/v2/", "GET, HEAD"],
        ["PUT", "/v2/_catalog", "GET"],
        ["DELETE", "/v2/errors/repo/tags/list", "GET"],
        ["GET", "/v2/errors/repo/blobs/uploads/", "POST"],
        ["POST", `/v2/errors/repo/blobs/uploads/${"0".repeat(32)}`, "GET, PATCH, PUT, DELETE"],
      ];
      for (const [method, path, allow] of cases) {
        const response = await registry.fetch(path, { method });
        assert.equal(response.headers.get("allow"), allow, `${method} ${path}`);
        await assertError(response, 405, "UNSUPPORTED");
      }
    });
  });

  describe("Error responses", () => {
    it("carry the {errors:[{code,message,detail}]} shape as JSON for each kind of failure", async () => {
      const cases: [string, RequestInit, number, string][] = [
        ["/v2/Bad/tags/list", {}, 400, "NAME_INVALID"],
        ["/v2/errors/none/tags/list", {}, 404, "NAME_UNKNOWN"],
        [`/v2/errors/repo/blobs/${digest}`, {}, 404, "BLOB_UNKNOWN"],
        ["/v2/errors/repo/manifests/latest", {}, 404, "MANIFEST_UNKNOWN"],
        ["/v2/errors/repo/manifests/latest", { method: "PUT", body: bytes("nope") }, 400, "MANIFEST_INVALID"],
        ["/v2/errors/repo/manifests/bad!tag", { method: "PUT", body: bytes("{}") }, 400, "TAG_INVALID"],
        [`/v2/errors/repo/blobs/uploads/${"f".repeat(32)}`, {}, 404, "BLOB_UPLOAD_UNKNOWN"],
        ["/v2/errors/repo/tags/list?n=x", {}, 400, "PAGINATION_NUMBER_INVALID"],
      ];
      for (const [path, init, status, code] of cases) {
        const response = await registry.fetch(path, init);
        assert.equal(response.headers.get("docker-distribution-api-version"), "registry/2.0");
        const text = await response.clone().text();
        const body = JSON.parse(text) as { errors: Record<string, unknown>[] };
        assert.equal(body.errors.length, 1);
        assert.deepEqual(Object.keys(body.errors[0] as object).sort(), ["code", "detail", "message"]);
        await assertError(response, status, code);
      }
    });

    it("HEAD errors keep the status and headers but have no body", async () => {
      const cases: [string, number][] = [
        ["/v2/Bad/manifests/latest", 400],
        ["/v2/errors/repo/manifests/latest", 404],
        [`/v2/errors/repo/blobs/${digest}`, 404],
        ["/v2/errors/repo/blobs/sha256:totallywrong", 400],
        ["/v2/nothing/here", 404],
        ["/v2/_catalog", 405],
      ];
      for (const [path, status] of cases) {
        const response = await registry.fetch(path, { method: "HEAD" });
        assert.equal(response.status, status, `HEAD ${path}`);
        assert.equal(response.headers.get("docker-distribution-api-version"), "registry/2.0");
        assert.equal(await response.text(), "", `HEAD ${path} has a body`);
      }
    });
  });

  describe("Robustness", () => {
    it("no malformed request is answered with a 5xx", async () => {
      const paths = [
        "/v2/a/manifests/a:b",
        "/v2/a/manifests/:",
        "/v2/a/manifests/%3A",
        "/v2/a/manifests/%ZZ",
        "/v2/a/blobs/a:b:c",
        `/v2/a/blobs/${digest}:x`,
        "/v2/a/tags/list?n=99999999999999999999",
        "/v2/a/tags/list?last=%27",
        "/v2/_catalog?last=%27%20or%20%27%27%3D%27",
        `/v2/_catalog?last=${"x".repeat(2000)}`,
        "/v2/a/blobs/uploads/?digest=",
        "/v2/a/blobs/uploads/?mount=&from=",
        `/v2/${"a/".repeat(200)}b/tags/list`,
        "/v2/_catalog/tags/list",
        "/v2/a/blobs/uploads/uploads",
      ];
      for (const path of paths) {
        for (const method of ["GET", "HEAD", "PUT", "POST", "PATCH", "DELETE"]) {
          const withBody = method === "PUT" || method === "POST" || method === "PATCH";
          const response = await registry.fetch(path, { method, ...(withBody ? { body: bytes("x") } : {}) });
          const text = await response.text();
          assert.ok(response.status < 500, `${method} ${path} answered ${response.status}: ${text}`);
          assert.ok(response.status >= 200);
        }
      }
    });
  });
});
