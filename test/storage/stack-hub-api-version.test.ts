import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startBackgroundJobs, type BackgroundJobs } from "../../shared/app/background-jobs.js";
import { useAzurite } from "../helpers/azurite.js";
import { randomBlob, sha256 } from "../helpers/content.js";
import { RecordingProxy } from "../helpers/recording-proxy.js";
import {
  ADMIN_PASSWORD,
  as,
  basic,
  createAuthRegistry,
  getToken,
  postToken,
  type AuthRegistry,
} from "../auth/support.js";
import {
  OCI_MANIFEST,
  bodyBytes,
  nextLocation,
  patchChunk,
  pushBlob,
  pushImage,
  pushManifest,
  startUpload,
  withQuery,
} from "../protocol/support.js";
import { Receiver } from "../webhooks/receiver.js";
import { FAST_DELIVERY } from "../webhooks/support.js";

/**
 * Azure Stack Hub storage accepts only older REST API versions. With STOWAGE_STORAGE_API_VERSION
 * set, every request the registry sends to Blob, Table and Queue storage must carry that
 * `x-ms-version`, and every SAS URL it hands out that `sv`. A recording proxy between the SDKs
 * and Azurite sees each request as sent, while a registry with token auth, redirects and
 * webhooks does everything users do.
 */
const PINNED = "2019-07-07";

describe("storage API version pinned (Azure Stack Hub)", () => {
  const azurite = useAzurite();
  let proxy: RecordingProxy;
  let registry: AuthRegistry;
  let jobs: BackgroundJobs;
  let receiver: Receiver;

  before(async () => {
    proxy = await RecordingProxy.start(azurite());
    receiver = await Receiver.start();
    registry = await createAuthRegistry(proxy.connectionString, {
      ...FAST_DELIVERY,
      STOWAGE_STORAGE_API_VERSION: PINNED,
      STOWAGE_BLOB_REDIRECT: "true",
      STOWAGE_WEBHOOKS: JSON.stringify([
        { name: "ci", url: receiver.url("/hook"), secret: "a-webhook-secret-for-tests" },
      ]),
    });
    jobs = startBackgroundJobs(registry.app, () => undefined);
  });

  after(async () => {
    await jobs?.stop();
    await receiver?.down();
    await proxy?.stop();
  });

  it("push, pull, tag list, referrers, catalog, delete, uploads, GC, webhooks and login all work with the pin", async () => {
    // token login: GET with Basic (docker login), and the OAuth2 POST form (containerd)
    const scope = "repository:hub/app:pull,push,delete";
    const { token } = await getToken(registry, "admin", ADMIN_PASSWORD, [scope]);
    const form = await postToken(registry, {
      grant_type: "password",
      username: "admin",
      password: ADMIN_PASSWORD,
      scope,
      service: "stowage",
      client_id: "containerd-client",
    });
    assert.equal(form.status, 200);
    const reg = as(registry, token);

    // uploads: monolithic (inside pushImage), and two chunks with Content-Range
    const image = await pushImage(reg, "hub/app", "v1");
    const chunked = randomBlob(3 * 1024 * 1024 + 17);
    const location = await startUpload(reg, "hub/app");
    const half = 2 * 1024 * 1024;
    const first = await patchChunk(reg, location, chunked.data.subarray(0, half), 0);
    assert.equal(first.status, 202);
    const second = await patchChunk(reg, nextLocation(first), chunked.data.subarray(half), half);
    assert.equal(second.status, 202);
    const done = await reg.fetch(withQuery(second.headers.get("location") as string, `digest=${chunked.digest}`), {
      method: "PUT",
    });
    assert.equal(done.status, 201, await done.text());

    // pull: manifest by tag, blob by redirect to a SAS URL signed with the pinned version
    const manifest = await reg.fetch("/v2/hub/app/manifests/v1", { headers: { accept: OCI_MANIFEST } });
    assert.equal(manifest.status, 200);
    assert.equal(manifest.headers.get("docker-content-digest"), image.digest);
    const blob = await reg.fetch(`/v2/hub/app/blobs/${chunked.digest}`, { redirect: "manual" });
    assert.equal(blob.status, 307);
    const sas = new URL(blob.headers.get("location") as string);
    assert.equal(sas.searchParams.get("sv"), PINNED, "the SAS URL's signed version");
    const downloaded = await fetch(sas);
    assert.equal(downloaded.status, 200, "storage accepts the SAS URL");
    assert.ok((await bodyBytes(downloaded)).equals(chunked.data));

    // tag list and referrers
    const tags = await reg.fetch("/v2/hub/app/tags/list");
    assert.deepEqual(((await tags.json()) as { tags: string[] }).tags, ["v1"]);
    const emptyConfig = await pushBlob(reg, "hub/app", "{}");
    const signature = JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: "application/vnd.example.signature",
      config: { mediaType: "application/vnd.oci.empty.v1+json", digest: emptyConfig, size: 2 },
      layers: [{ mediaType: "application/vnd.oci.empty.v1+json", digest: emptyConfig, size: 2 }],
      subject: { mediaType: OCI_MANIFEST, digest: image.digest, size: Buffer.byteLength(image.manifest) },
    });
    await pushManifest(reg, "hub/app", "sig", signature, OCI_MANIFEST);
    const referrers = await reg.fetch(`/v2/hub/app/referrers/${image.digest}`);
    assert.equal(referrers.status, 200);
    assert.equal(((await referrers.json()) as { manifests: unknown[] }).manifests.length, 1);

    // catalog, a delete, and the garbage collection of abandoned uploads
    const catalogToken = (await getToken(registry, "admin", ADMIN_PASSWORD, ["registry:catalog:*"])).token;
    const catalog = await as(registry, catalogToken).fetch("/v2/_catalog");
    assert.deepEqual(((await catalog.json()) as { repositories: string[] }).repositories, ["hub/app"]);
    const deleted = await reg.fetch(`/v2/hub/app/manifests/${sha256(signature)}`, { method: "DELETE" });
    assert.equal(deleted.status, 202);
    await startUpload(reg, "hub/app");
    await registry.app.registry.uploads.purgeExpired(true);

    // webhooks: the push event goes through both queues to the receiver
    await receiver.waitFor((all) => all.some((r) => r.body.includes('"tag":"v1"')), 30_000, "the push webhook");

    // and a refused login still answers (no storage error): a wrong password is 401
    const refused = await registry.fetch(`/token?service=stowage`, {
      headers: { authorization: basic("admin", "nope") },
    });
    assert.equal(refused.status, 401);
  });

  it("every request carried the pinned x-ms-version (or, from a SAS URL, the pinned sv)", (t) => {
    const count = (service: string) => proxy.requests.filter((r) => r.service === service).length;
    t.diagnostic(`storage requests: blob ${count("blob")}, table ${count("table")}, queue ${count("queue")}`);
    const services = new Set(proxy.requests.map((r) => r.service));
    assert.deepEqual([...services].sort(), ["blob", "queue", "table"], "all three services were used");
    assert.ok(proxy.requests.length > 50, `only ${proxy.requests.length} storage requests recorded`);
    const wrong = proxy.requests.filter((r) => {
      const sv = new URL(r.url, "http://x").searchParams.get("sv");
      return (r.version ?? sv) !== PINNED;
    });
    assert.deepEqual(
      wrong.map((r) => `${r.service} ${r.method} ${r.url.slice(0, 120)} x-ms-version=${r.version}`),
      [],
    );
    const batches = proxy.requests.filter((r) => r.url.includes("$batch"));
    assert.ok(batches.length > 0, "entity-group transactions were sent");
  });
});
