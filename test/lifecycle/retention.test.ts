import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { useAzurite } from "../helpers/azurite.js";
import {
  lifecycleApp,
  manifestDescriptor,
  manifestStatus,
  pushImageOf,
  pushIndex,
  type LifecycleApp,
} from "./support.js";

const DAY = 86_400_000;
const RULES = [
  { repositories: "ret/untagged", untaggedDays: 7 },
  { repositories: "ret/tags*", keepTags: 2, tagPattern: "v*", untaggedDays: 0 },
];

/** Retention keeps exactly what its rules say, and never what a kept manifest needs. */
describe("Retention", () => {
  const azurite = useAzurite();

  it("deletes old untagged manifests, keeping index children, referrers with their subject, and subjects of kept referrers", async () => {
    const { app, clock } = await lifecycleApp(azurite().connectionString, { STOWAGE_RETENTION: JSON.stringify(RULES) });
    const repo = "ret/untagged";
    const referrer = async (name: string, subject: string, tag = "") =>
      pushImageOf(app, repo, tag, [`${name} config`, `${name} payload`], {
        artifactType: "application/vnd.example.signature",
        subject: await manifestDescriptor(app, repo, subject),
      });

    const tagged = await pushImageOf(app, repo, "latest", ["tagged config", "base layer"]);
    const old = await pushImageOf(app, repo, "", ["old config", "old layer"]);
    const child = await pushImageOf(app, repo, "", ["child config", "base layer"]);
    const index = await pushIndex(app, repo, "multi", [child]);
    const signedOld = await pushImageOf(app, repo, "", ["signed config", "signed layer"]);
    const keptSignature = await referrer("signature of tagged", tagged);
    const doomedSignature = await referrer("signature of old", old);
    const taggedSignature = await referrer("tagged signature", signedOld, "sig");

    clock.ahead = 10 * DAY;
    const young = await pushImageOf(app, repo, "", ["young config", "young layer"]);
    const youngSignatureOfOld = await referrer("young signature of old", old);

    const preview = await app.lifecycle.collectGarbage({ dryRun: true });
    assert.equal(preview.retention.manifests, 3, JSON.stringify(preview.retention));
    assert.equal(await manifestStatus(app, repo, old), 200, "a dry run deletes nothing");

    const report = await app.lifecycle.collectGarbage();
    assert.equal(report.retention.manifests, 3);
    const expected: Record<string, number> = {
      [tagged]: 200,
      [child]: 200,
      [index]: 200,
      [signedOld]: 200,
      [keptSignature]: 200,
      [taggedSignature]: 200,
      [young]: 200,
      [old]: 404,
      [doomedSignature]: 404,
      [youngSignatureOfOld]: 404,
    };
    for (const [digest, status] of Object.entries(expected))
      assert.equal(await manifestStatus(app, repo, digest), status, digest);
    const blobs = await app.fetch(`/v2/${repo}/blobs/${await layerOf(app, repo, tagged)}`);
    assert.equal(blobs.status, 200, "the layers of kept images stay");
  });

  it("keeps the most recent tags that match the pattern, and leaves other tags and repositories alone", async () => {
    const { app } = await lifecycleApp(azurite().connectionString, { STOWAGE_RETENTION: JSON.stringify(RULES) });
    const pushed: Record<string, string> = {};
    for (const tag of ["v1", "v2", "dev", "v3"])
      pushed[tag] = await pushImageOf(app, "ret/tags", tag, [`cfg ${tag}`, "l"]);
    const elsewhere = await pushImageOf(app, "ret/other", "v1", ["other cfg", "l"]);
    await pushImageOf(app, "ret/other", "v2", ["other cfg 2", "l"]);
    await pushImageOf(app, "ret/other", "v3", ["other cfg 3", "l"]);

    const report = await app.lifecycle.collectGarbage();
    assert.deepEqual(report.retention, { tags: 1, manifests: 1 });
    const tags = (await (await app.fetch("/v2/ret/tags/tags/list")).json()) as { tags: string[] };
    assert.deepEqual(tags.tags.sort(), ["dev", "v2", "v3"]);
    assert.equal(
      await manifestStatus(app, "ret/tags", pushed.v1 as string),
      404,
      "untagged, and the rule's age is 0 days",
    );
    assert.equal(await manifestStatus(app, "ret/other", elsewhere), 200, "no rule matches ret/other");
  });
});

async function layerOf(app: LifecycleApp, repository: string, digest: string): Promise<string> {
  const manifest = (await (await app.fetch(`/v2/${repository}/manifests/${digest}`)).json()) as {
    layers: { digest: string }[];
  };
  return manifest.layers[0]?.digest as string;
}
