import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { createHttpHeaders } from "@azure/core-rest-pipeline";
import { TableClient } from "@azure/data-tables";
import type { StorageCall } from "../../shared/storage/azure/storage-call-policy.js";
import { MAX_KEY_LENGTH } from "../../shared/storage/azure/table-keys.js";
import { entityUrl, getRow } from "../../shared/storage/azure/table-point-read.js";
import { isStatus } from "../../shared/storage/azure/table-rows.js";
import { useAzurite } from "../helpers/azurite.js";
import { observedTable, PINNED_VERSION } from "../helpers/observed-table.js";

/**
 * The lean point read must answer exactly what the SDK's `getEntity` answers (same request URL,
 * same decoded entity, missing rows undefined), go through the client's pipeline (pinned API
 * version, call metrics) and fail with the same error shape.
 */
const PINNED = PINNED_VERSION;

/** Keys with everything OData and URL escaping must get right, up to the longest Stowage writes. */
const KEYS: [string, string][] = [
  ["library,ubuntu", "tag:latest"],
  ["o'brien''s", "it's 'quoted'"],
  ["100%25 done", "%%sha256:" + "a".repeat(64)],
  ["ünïcødé-日本語-🐳", "tag:ÄÖÜ+ok=@:&$;"],
  ["sp ace(paren)*!~", "manifest:sha256:" + "f".repeat(64)],
  ["p".repeat(MAX_KEY_LENGTH), "r".repeat(MAX_KEY_LENGTH - 1) + "'"],
];

/** Characters Azure refuses in keys (so never stored), still escaped as the SDK escapes them. */
const UNSTORABLE_KEYS: [string, string][] = [
  ["a/b#c?d\\e", "x/y#z?"],
  ["%2F%23", "q=1&r=2"],
];

describe("table point read (lean getEntity)", () => {
  const azurite = useAzurite();
  const calls: StorageCall[] = [];
  let table: TableClient;

  before(async () => {
    const versions: string[] = [];
    table = observedTable(azurite().connectionString, "leanread", { calls, versions });
    await table.createTable();
    await table.createEntity({
      partitionKey: KEYS[0]![0],
      rowKey: KEYS[0]![1],
      digest: "sha256:" + "0".repeat(64),
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      size: BigInt("9007199254740993"),
      count: 42,
      ratio: 0.5,
      flag: true,
      createdAt: new Date("2026-01-02T03:04:05.678Z"),
      content: new Uint8Array([0, 1, 2, 250, 255, ...Buffer.from('{"schemaVersion":2}')]),
      empty: new Uint8Array(0),
      text: "ünïcødé 'quoted' \"double\"",
    });
    for (const [partitionKey, rowKey] of KEYS.slice(1))
      await table.createEntity({ partitionKey, rowKey, value: rowKey });
    assert.ok(versions.length > 0 && versions.every((version) => version === PINNED), versions.join());
  });

  it("decodes a row exactly as getEntity does (binary, int64, dates, numbers, unicode)", async () => {
    const [partitionKey, rowKey] = KEYS[0]!;
    const lean = await getRow(table, partitionKey, rowKey);
    const sdk = await table.getEntity(partitionKey, rowKey);
    assert.deepEqual(lean, sdk);
    assert.ok(lean?.content instanceof Uint8Array);
    assert.deepEqual([...(lean.content as Uint8Array).subarray(0, 5)], [0, 1, 2, 250, 255]);
    assert.equal(lean.size, BigInt("9007199254740993"));
    assert.equal(typeof lean.etag, "string");
    assert.ok(lean.timestamp);
  });

  it("reads rows whose keys need quoting and URL escaping, up to the longest keys", async () => {
    for (const [partitionKey, rowKey] of KEYS.slice(1)) {
      const lean = await getRow(table, partitionKey, rowKey);
      assert.equal(lean?.value, rowKey, `${partitionKey} / ${rowKey}`);
      assert.deepEqual(lean, await table.getEntity(partitionKey, rowKey));
    }
  });

  it("builds the same request URL as getEntity for every key", async () => {
    const urls: string[] = [];
    // a client whose pipeline records the URL and answers 404 itself (no network)
    // the second as a SAS connection string makes it: the signature in the account URL's query
    for (const url of [table.url, `${table.url}?sv=2019-02-02&sig=a%2Fb%3D`]) {
      const recorder = new TableClient(url, "leanread", { allowInsecureConnection: true });
      recorder.pipeline.addPolicy(
        {
          name: "recordUrl",
          sendRequest: async (request) => {
            urls.push(request.url);
            return { request, status: 404, headers: createHttpHeaders() };
          },
        },
        { afterPhase: "Sign" },
      );
      for (const [partitionKey, rowKey] of [...KEYS, ...UNSTORABLE_KEYS]) {
        await assert.rejects(recorder.getEntity(partitionKey, rowKey), (error) => isStatus(error, 404));
        assert.equal(await getRow(recorder, partitionKey, rowKey), undefined);
        const [sdk, lean] = urls.splice(0);
        assert.equal(lean, sdk);
        assert.equal(entityUrl(recorder, partitionKey, rowKey), sdk);
      }
    }
  });

  it("answers undefined for a missing row and a missing table", async () => {
    assert.equal(await getRow(table, "nobody", "nothing"), undefined);
    const missing = TableClient.fromConnectionString(azurite().connectionString, "nosuchtable", {
      allowInsecureConnection: true,
    });
    assert.equal(await getRow(missing, "p", "r"), undefined);
  });

  it("fails with the RestError shape getEntity fails with", async () => {
    const failing = new TableClient(table.url, "leanread", { allowInsecureConnection: true });
    failing.pipeline.addPolicy(
      {
        name: "answer400",
        sendRequest: async (request) => ({
          request,
          status: 400,
          headers: createHttpHeaders({ "content-type": "application/json;odata=minimalmetadata" }),
          bodyAsText: JSON.stringify({ "odata.error": { code: "InvalidInput", message: { value: "bad request" } } }),
        }),
      },
      { afterPhase: "Sign" },
    );
    const sdkError = await failing.getEntity("p", "r").catch((e) => e);
    assert.ok(isStatus(sdkError, 400));
    const leanError = await getRow(failing, "p", "r").catch((e) => e);
    assert.ok(isStatus(leanError, 400));
    assert.equal(leanError.name, sdkError.name);
    assert.equal(leanError.code, sdkError.code);
    assert.equal(leanError.message, sdkError.message);
    assert.deepEqual(leanError.details.odataError, { code: "InvalidInput", message: { value: "bad request" } });
    assert.deepEqual(leanError.details.odataError, sdkError.details.odataError);
    assert.equal(leanError.constructor, sdkError.constructor);
  });

  it("is counted as one table entity call by the storage-call policy", async () => {
    calls.length = 0;
    await getRow(table, ...KEYS[0]!);
    await getRow(table, "nobody", "nothing");
    assert.deepEqual(
      calls.map(({ service, operation, status }) => ({ service, operation, status })),
      [
        { service: "table", operation: "GET entity", status: 200 },
        { service: "table", operation: "GET entity", status: 404 },
      ],
    );
  });
});
