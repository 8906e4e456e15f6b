import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { after, before, describe, it } from "node:test";
import { isLoginName } from "../../shared/auth/login-name.js";
import { MAX_NAME_LENGTH, isTag, isValidName } from "../../shared/registry/references.js";
import { ADMIN_PASSWORD, as, basic, createAuthRegistry, getToken, type AuthRegistry } from "../auth/support.js";
import { useAzurite } from "../helpers/azurite.js";
import { imageManifest } from "../helpers/content.js";
import { RecordingProxy } from "../helpers/recording-proxy.js";
import { OCI_MANIFEST, assertError, bytes, pushManifest } from "../protocol/support.js";

/**
 * Azure Stack Hub storage keeps smaller keys than Azure: PartitionKey and RowKey at most 400
 * characters (Azure: 1,024), blob names at most 880 (Azure: 1,024). The longest repository
 * name, tag, digest and login name Stowage accepts are stored here through a recording proxy,
 * and every key and blob name that went over the wire is measured. Longer input is refused
 * before any storage call with the OCI error for it, never a 500 from storage.
 */
const STACK_HUB_MAX_KEY = 400;
const STACK_HUB_MAX_BLOB_NAME = 880;

const sha512 = (data: string) => `sha512:${createHash("sha512").update(data).digest("hex")}`;
/** 255 characters, the most the registry accepts, with a `/` in every other place (encoded keys keep length). */
const LONGEST_NAME = "a" + "/a".repeat((MAX_NAME_LENGTH - 1) / 2);
const LONGEST_TAG = "v" + "x.".repeat(63) + "y";
/** 64 characters, every one after the first escaped to three by the throttle's key encoding. */
const LONGEST_LOGIN = "a" + "@".repeat(63);
const LONG_ADDRESS = "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255";

describe("Azure Stack Hub key and blob-name limits", () => {
  const azurite = useAzurite();
  let proxy: RecordingProxy;
  let registry: AuthRegistry;

  before(async () => {
    proxy = await RecordingProxy.start(azurite());
    registry = await createAuthRegistry(proxy.connectionString, { STOWAGE_ANONYMOUS_PULL: "" });
  });
  after(() => proxy?.stop());

  it("the longest accepted inputs are what the test stores", () => {
    assert.equal(LONGEST_NAME.length, MAX_NAME_LENGTH);
    assert.ok(isValidName(LONGEST_NAME) && !isValidName(LONGEST_NAME + "a"));
    assert.equal(LONGEST_TAG.length, 128);
    assert.ok(isTag(LONGEST_TAG) && !isTag(LONGEST_TAG + "z"));
    assert.ok(isLoginName(LONGEST_LOGIN) && !isLoginName(LONGEST_LOGIN + "a"));
  });

  it("stores the longest name, tag, sha512 digests, referrer and login within Stack Hub's limits", async (t) => {
    const scope = `repository:${LONGEST_NAME}:pull,push,delete`;
    const reg = as(registry, (await getToken(registry, "admin", ADMIN_PASSWORD, [scope])).token);
    const config = '{"architecture":"amd64","os":"linux"}';
    const configDigest = sha512(config);
    const pushed = await reg.fetch(`/v2/${LONGEST_NAME}/blobs/uploads/?digest=${configDigest}`, {
      method: "POST",
      body: bytes(config),
      headers: { "content-type": "application/octet-stream" },
    });
    assert.equal(pushed.status, 201, await pushed.text());
    const ref = { digest: configDigest, size: config.length };
    const image = imageManifest(ref, [ref]);
    await pushManifest(reg, LONGEST_NAME, LONGEST_TAG, image, OCI_MANIFEST);
    const referrer = imageManifest(ref, [ref], {
      subject: { mediaType: OCI_MANIFEST, digest: sha512(image), size: image.length },
    });
    await pushManifest(reg, LONGEST_NAME, sha512(referrer), referrer, OCI_MANIFEST);
    const referrers = await reg.fetch(`/v2/${LONGEST_NAME}/referrers/${sha512(image)}`);
    assert.equal(referrers.status, 200);
    const tags = await reg.fetch(`/v2/${LONGEST_NAME}/tags/list`);
    assert.deepEqual(((await tags.json()) as { tags: string[] }).tags, [LONGEST_TAG]);
    // a failed login records throttle counters keyed by name and address
    const refused = await registry.fetchFrom(LONG_ADDRESS, "/token?service=stowage", {
      headers: { authorization: basic(LONGEST_LOGIN, "wrong-password") },
    });
    assert.equal(refused.status, 401);

    const keys = proxy.tableKeys();
    const names = proxy.blobNames();
    const longestKey = Math.max(...keys.map((k) => k.length));
    const longestBlob = Math.max(...names.map((n) => n.length));
    t.diagnostic(
      `${keys.length} table keys, longest ${longestKey}; ${names.length} blob names, longest ${longestBlob}`,
    );
    assert.ok(
      keys.some((k) => k.includes(`ref:${sha512(image)}`)),
      "the referrer key was seen",
    );
    assert.ok(
      keys.some((k) => k.length >= MAX_NAME_LENGTH),
      "the repository's partition key was seen",
    );
    assert.ok(longestKey <= STACK_HUB_MAX_KEY, `a table key of ${longestKey} characters`);
    assert.ok(longestBlob <= STACK_HUB_MAX_BLOB_NAME, `a blob name of ${longestBlob} characters`);
  });

  it("a login from an absurdly long forwarded address is refused as a login, not a storage error", async () => {
    const behindProxy = await createAuthRegistry(proxy.connectionString, { STOWAGE_TRUST_PROXY: "true" });
    const before = proxy.requests.length;
    const refused = await behindProxy.fetch("/token?service=stowage", {
      headers: { authorization: basic(LONGEST_LOGIN, "wrong-password"), "x-forwarded-for": "f".repeat(3000) },
    });
    assert.equal(refused.status, 401, await refused.text());
    const keys = proxy.tableKeys(before);
    assert.ok(keys.length > 0, "throttle rows were written");
    assert.ok(Math.max(...keys.map((k) => k.length)) <= STACK_HUB_MAX_KEY);
  });

  it("refuses longer names and tags with their OCI errors before storage", async () => {
    const tooLong = LONGEST_NAME + "/b";
    const scopes = [`repository:${LONGEST_NAME}:pull,push`];
    const reg = as(registry, (await getToken(registry, "admin", ADMIN_PASSWORD, scopes)).token);
    const before = proxy.requests.length;
    await assertError(await reg.fetch(`/v2/${tooLong}/tags/list`), 400, "NAME_INVALID");
    await assertError(await reg.fetch(`/v2/${tooLong}/blobs/uploads/`, { method: "POST" }), 400, "NAME_INVALID");
    await assertError(
      await reg.fetch(`/v2/${LONGEST_NAME}/manifests/${LONGEST_TAG}z`, {
        method: "PUT",
        body: bytes("{}"),
        headers: { "content-type": OCI_MANIFEST },
      }),
      400,
      "TAG_INVALID",
    );
    assert.equal(proxy.requests.length, before, "no storage request for refused input");
  });
});
