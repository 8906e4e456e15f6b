import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { createHttpHeaders, type PipelineRequest } from "@azure/core-rest-pipeline";
import { TableClient, TableTransaction, type TransactionAction } from "@azure/data-tables";
import type { StorageCall } from "../../shared/storage/azure/storage-call-policy.js";
import { MAX_KEY_LENGTH } from "../../shared/storage/azure/table-keys.js";
import { isStatus } from "../../shared/storage/azure/table-rows.js";
import { insertRow, submitBatch, upsertRow } from "../../shared/storage/azure/table-write.js";
import { useAzurite } from "../helpers/azurite.js";
import { observedTable, PINNED_VERSION } from "../helpers/observed-table.js";

/**
 * The lean table writes must send exactly what the SDK's `createEntity`, `upsertEntity` and
 * `submitTransaction` send (same URL, headers and body, UUIDs aside), store the same rows, go through the client's
 * pipeline (pinned API version, call metrics) and fail as the SDK fails.
 */
const PINNED = PINNED_VERSION;

const KEYS: [string, string][] = [
  ["library,ubuntu", "tag:latest"],
  ["o'brien''s", "it's 'quoted'"],
  ["ünïcødé-日本語-🐳", "tag:ÄÖÜ+ok=@:&$;"],
  ["p".repeat(MAX_KEY_LENGTH), "r".repeat(MAX_KEY_LENGTH - 1) + "'"],
];

/** Every value type the SDK serializes, as Stowage's rows hold them and beyond. */
function entity(partitionKey: string, rowKey: string) {
  return {
    partitionKey,
    rowKey,
    digest: "sha256:" + "0".repeat(64),
    size: BigInt("9007199254740993"),
    count: 42,
    ratio: 0.5,
    flag: false,
    createdAt: new Date("2026-01-02T03:04:05.678Z"),
    content: new Uint8Array([0, 1, 2, 250, 255, ...Buffer.from('{"schemaVersion":2}')]),
    slice: Buffer.from("xxabcxx").subarray(2, 5),
    empty: new Uint8Array(0),
    text: "ünïcødé 'quoted' \"double\" \r\n--changeset_x",
    explicit: { value: "7", type: "Int64" as const },
    skipped: undefined,
  };
}

/** A client that records each request after signing and answers `status` itself (no network). */
function recorder(url: string, status: number, requests: PipelineRequest[]): TableClient {
  const client = new TableClient(url, "leanwrite", { allowInsecureConnection: true });
  client.pipeline.addPolicy(
    {
      name: "record",
      sendRequest: async (request) => {
        requests.push(request);
        return { request, status, headers: createHttpHeaders(), bodyAsText: "" };
      },
    },
    { afterPhase: "Sign" },
  );
  return client;
}

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
/** What goes on the wire, less what differs per call (ids, dates, signature). */
function wire(request: PipelineRequest) {
  const headers = Object.fromEntries(
    [...request.headers]
      .filter(([name]) => !["x-ms-client-request-id", "x-ms-date", "authorization"].includes(name))
      .map(([name, value]) => [name, value.replace(UUID, "<uuid>")]),
  );
  const body = typeof request.body === "string" ? request.body.replace(UUID, "<uuid>") : request.body;
  return { method: request.method, url: request.url, headers, body, insecure: request.allowInsecureConnection };
}

describe("table writes (lean createEntity, upsertEntity and submitTransaction)", () => {
  const azurite = useAzurite();
  const calls: StorageCall[] = [];
  const versions: string[] = [];
  let table: TableClient;

  before(async () => {
    table = observedTable(azurite().connectionString, "leanwrite", { calls, versions });
    await table.createTable();
  });

  it("sends the same batch and upsert requests as the SDK, for every key and value type", async () => {
    // the second URL as a SAS connection string makes it: the signature in the account URL's query
    for (const url of [table.url, `${table.url}?sv=2019-02-02&sig=a%2Fb%3D`]) {
      const requests: PipelineRequest[] = [];
      const client = recorder(url, 202, requests);
      for (const [partitionKey, rowKey] of KEYS) {
        const tx = new TableTransaction();
        tx.upsertEntity(entity(partitionKey, rowKey), "Replace");
        tx.upsertEntity({ partitionKey, rowKey: `${rowKey}-merged`, text: "merged" }, "Merge");
        tx.upsertEntity({ partitionKey, rowKey: `${rowKey}-default` });
        tx.deleteEntity(partitionKey, `${rowKey}-gone`);
        tx.updateEntity(entity(partitionKey, `${rowKey}-updated`), "Replace");
        tx.updateEntity({ partitionKey, rowKey: `${rowKey}-merged-if`, text: "merged" }, "Merge", { etag: 'W/"x"' });
        tx.updateEntity({ partitionKey, rowKey: `${rowKey}-updated-default`, text: "merged" });
        await client.submitTransaction(tx.actions);
        await submitBatch(client, tx.actions);
        const [sdk, lean] = requests.splice(0);
        assert.deepEqual(wire(lean!), wire(sdk!));
      }
      const upserting = recorder(url, 204, requests);
      for (const [partitionKey, rowKey] of KEYS) {
        for (const mode of ["Merge", "Replace"] as const) {
          await upserting.upsertEntity(entity(partitionKey, rowKey), mode);
          await upsertRow(upserting, entity(partitionKey, rowKey), mode);
          const [sdk, lean] = requests.splice(0);
          assert.deepEqual(wire(lean!), wire(sdk!));
        }
        await upserting.createEntity(entity(partitionKey, rowKey));
        await insertRow(upserting, entity(partitionKey, rowKey));
        const [sdk, lean] = requests.splice(0);
        assert.deepEqual(wire(lean!), wire(sdk!));
      }
    }
  });

  it("stores the rows the SDK stores", async () => {
    for (const [partitionKey, rowKey] of KEYS) {
      const tx = new TableTransaction();
      tx.upsertEntity(entity(partitionKey, rowKey), "Replace");
      tx.upsertEntity({ partitionKey, rowKey: `${rowKey}-2`, text: "second" }, "Replace");
      await submitBatch(table, tx.actions);
      await table.upsertEntity(entity(partitionKey, `${rowKey}-sdk`), "Replace");
      const lean = await table.getEntity(partitionKey, rowKey);
      const sdk = await table.getEntity(partitionKey, `${rowKey}-sdk`);
      const strip = ({ rowKey: _r, etag: _e, timestamp: _t, ...rest }: Record<string, unknown>) => rest;
      assert.deepEqual(strip(lean), strip(sdk));
      assert.equal(lean.size, BigInt("9007199254740993"));
      assert.equal((await table.getEntity(partitionKey, `${rowKey}-2`)).text, "second");
      await insertRow(table, entity(partitionKey, `${rowKey}-inserted`));
      assert.deepEqual(strip(await table.getEntity(partitionKey, `${rowKey}-inserted`)), strip(sdk));
    }
    // Merge keeps the other properties; Replace drops them; a delete in a batch removes the row
    const [partitionKey, rowKey] = KEYS[0]!;
    await upsertRow(table, { partitionKey, rowKey, text: "merged" }, "Merge");
    assert.equal((await table.getEntity(partitionKey, rowKey)).count, 42);
    await upsertRow(table, { partitionKey, rowKey, text: "replaced" }, "Replace");
    assert.equal((await table.getEntity(partitionKey, rowKey)).count, undefined);
    const tx = new TableTransaction();
    tx.deleteEntity(partitionKey, rowKey);
    await submitBatch(table, tx.actions);
    await assert.rejects(table.getEntity(partitionKey, rowKey), (error) => isStatus(error, 404));
  });

  it("fails as the SDK fails: a missing row in a batch, a missing table", async () => {
    const deleting: TransactionAction[] = [
      ["upsert", { partitionKey: "p", rowKey: "kept" }, "Replace"],
      ["delete", { partitionKey: "p", rowKey: "missing" }],
    ];
    const sdkError = await table.submitTransaction(deleting).catch((e) => e);
    const leanError = await submitBatch(table, deleting).catch((e) => e);
    assert.ok(isStatus(sdkError, 404), String(sdkError));
    assert.ok(isStatus(leanError, 404), String(leanError));
    assert.equal(leanError.code, sdkError.code);
    // the service's message, less its per-request id and time
    assert.equal(leanError.message.split("\n")[0], sdkError.message.split("\n")[0]);
    assert.equal(leanError.constructor, sdkError.constructor);
    await assert.rejects(table.getEntity("p", "kept"), (error) => isStatus(error, 404)); // all or nothing
    const updating: TransactionAction[] = [
      ["update", { partitionKey: "p", rowKey: "absent", text: "x" }, "Replace"],
      ["upsert", { partitionKey: "p", rowKey: "kept" }, "Replace"],
    ];
    const updateError = await submitBatch(table, updating).catch((e) => e);
    assert.ok(isStatus(updateError, 404), String(updateError));
    assert.equal(updateError.code, (await table.submitTransaction(updating).catch((e) => e)).code);
    await assert.rejects(table.getEntity("p", "kept"), (error) => isStatus(error, 404));

    // an insert of a row that exists: 409, as createEntity
    const existing = { partitionKey: "p", rowKey: "exists" };
    await insertRow(table, existing);
    const sdkInsert = await table.createEntity(existing).catch((e) => e);
    const leanInsert = await insertRow(table, existing).catch((e) => e);
    assert.ok(isStatus(sdkInsert, 409), String(sdkInsert));
    assert.ok(isStatus(leanInsert, 409), String(leanInsert));
    assert.equal(leanInsert.details.errorCode, sdkInsert.details.errorCode);

    const missing = TableClient.fromConnectionString(azurite().connectionString, "nosuchtable", {
      allowInsecureConnection: true,
    });
    const sdkUpsert = await missing.upsertEntity({ partitionKey: "p", rowKey: "r" }).catch((e) => e);
    const leanUpsert = await upsertRow(missing, { partitionKey: "p", rowKey: "r" }).catch((e) => e);
    assert.ok(isStatus(sdkUpsert, 404), String(sdkUpsert));
    assert.ok(isStatus(leanUpsert, 404), String(leanUpsert));
    const sdkBatch = await missing.submitTransaction(deleting.slice(0, 1)).catch((e) => e);
    const leanBatch = await submitBatch(missing, deleting.slice(0, 1)).catch((e) => e);
    assert.equal(leanBatch.statusCode, sdkBatch.statusCode);
    assert.equal(leanBatch.code, sdkBatch.code);
  });

  it("goes through the client's pipeline: pinned API version, counted as the SDK's calls are", async () => {
    const tx = new TableTransaction();
    tx.upsertEntity({ partitionKey: "metered", rowKey: "r" }, "Replace");
    const recorded = async (write: () => Promise<unknown>) => {
      calls.length = 0;
      versions.length = 0;
      await write();
      assert.deepEqual(versions, [PINNED]);
      return calls.map(({ service, operation, status }) => ({ service, operation, status }));
    };
    assert.deepEqual(
      await recorded(() => submitBatch(table, tx.actions)),
      await recorded(() => table.submitTransaction(tx.actions)),
    );
    assert.deepEqual(
      await recorded(() => upsertRow(table, { partitionKey: "metered", rowKey: "r" }, "Merge")),
      await recorded(() => table.upsertEntity({ partitionKey: "metered", rowKey: "r" }, "Merge")),
    );
    assert.deepEqual(
      await recorded(() => insertRow(table, { partitionKey: "metered", rowKey: "lean" })),
      await recorded(() => table.createEntity({ partitionKey: "metered", rowKey: "sdk" })),
    );
  });
});
