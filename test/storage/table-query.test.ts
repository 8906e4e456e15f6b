import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { createHttpHeaders, type PipelineRequest } from "@azure/core-rest-pipeline";
import { TableClient } from "@azure/data-tables";
import type { StorageCall } from "../../shared/storage/azure/storage-call-policy.js";
import { queryPage, type QueryContinuation } from "../../shared/storage/azure/table-query.js";
import { isStatus } from "../../shared/storage/azure/table-rows.js";
import { upsertRow } from "../../shared/storage/azure/table-write.js";
import { useAzurite } from "../helpers/azurite.js";
import { observedTable, PINNED_VERSION } from "../helpers/observed-table.js";

/**
 * The lean query page must send what the SDK's `listEntities(...).byPage()` sends (same URL and
 * headers), follow continuations as it does, decode the rows as it does, go through the client's
 * pipeline and fail as it fails.
 */
const FILTERS = [
  "PartitionKey eq 'repo' and RowKey ge 'upload:' and RowKey lt 'upload;'",
  "PartitionKey eq 'o''brien' and startedAt ge '2026-01-01T00:00:00.000Z' and RowKey ne 'upload:x+y&z=1'",
  "PartitionKey eq 'ünïcødé-日本語-🐳' and RowKey ge 'tag:ÄÖÜ+ok=@:&$;'",
];

/** A client that records each request after signing and answers an empty page itself (no network). */
function recorder(url: string, requests: PipelineRequest[]): TableClient {
  const client = new TableClient(url, "leanquery", { allowInsecureConnection: true });
  client.pipeline.addPolicy(
    {
      name: "record",
      sendRequest: async (request) => {
        requests.push(request);
        const headers = createHttpHeaders({ "content-type": "application/json;odata=minimalmetadata" });
        return { request, status: 200, headers, bodyAsText: '{"value":[]}' };
      },
    },
    { afterPhase: "Sign" },
  );
  return client;
}

function wire(request: PipelineRequest) {
  const headers = Object.fromEntries(
    [...request.headers].filter(([name]) => !["x-ms-client-request-id", "x-ms-date", "authorization"].includes(name)),
  );
  return { method: request.method, url: request.url, headers, body: request.body };
}

describe("table query page (lean listEntities byPage)", () => {
  const azurite = useAzurite();
  const calls: StorageCall[] = [];
  const versions: string[] = [];
  let table: TableClient;

  before(async () => {
    table = observedTable(azurite().connectionString, "leanquery", { calls, versions });
    await table.createTable();
    for (let i = 0; i < 7; i++) {
      await upsertRow(table, { partitionKey: "repo", rowKey: `upload:${i}`, offset: BigInt(i), startedAt: "2026" });
    }
    await upsertRow(table, { partitionKey: "repo", rowKey: "tag:latest", digest: "sha256:x" });
  });

  it("sends the same request as the SDK, for every filter, selection and page size", async () => {
    // the second URL as a SAS connection string makes it: the signature in the account URL's query
    for (const url of [table.url, `${table.url}?sv=2019-02-02&sig=a%2Fb%3D`]) {
      const requests: PipelineRequest[] = [];
      const client = recorder(url, requests);
      for (const filter of FILTERS) {
        for (const [select, top] of [
          [["RowKey"], 5],
          [undefined, 1000],
          [["RowKey", "startedAt"], undefined],
        ] as const) {
          const options = { queryOptions: { filter, ...(select ? { select: [...select] } : {}) } };
          await client
            .listEntities(options)
            .byPage(top !== undefined ? { maxPageSize: top } : undefined)
            .next();
          await queryPage(client, { filter, ...(select ? { select: [...select] } : {}), ...(top ? { top } : {}) });
          const [sdk, lean] = requests.splice(0);
          assert.deepEqual(wire(lean!), wire(sdk!));
        }
      }
    }
  });

  it("pages and decodes as the SDK does", async () => {
    const filter = FILTERS[0]!;
    const sdkPages: unknown[][] = [];
    for await (const page of table.listEntities({ queryOptions: { filter } }).byPage({ maxPageSize: 3 })) {
      sdkPages.push([...page]);
    }
    const leanPages: unknown[][] = [];
    let next: QueryContinuation | undefined;
    do {
      const page = await queryPage(table, { filter, top: 3, continuation: next });
      leanPages.push(page.rows);
      next = page.next;
    } while (next);
    assert.deepEqual(
      leanPages.map((page) => page.length),
      [3, 3, 1],
    );
    assert.deepEqual(leanPages, sdkPages);
    assert.equal((leanPages[0]![1] as { offset: bigint }).offset, 1n);
    const keys = await queryPage(table, { filter, select: ["RowKey"] });
    assert.deepEqual(
      keys.rows.map((row) => row.rowKey),
      [0, 1, 2, 3, 4, 5, 6].map((i) => `upload:${i}`),
    );
    assert.equal(keys.next, undefined);
  });

  it("fails as the SDK fails (a missing table), through the client's pipeline", async () => {
    const missing = TableClient.fromConnectionString(azurite().connectionString, "nosuchtable", {
      allowInsecureConnection: true,
    });
    const sdk = await missing
      .listEntities({ queryOptions: { filter: FILTERS[0] } })
      .byPage()
      .next()
      .catch((e) => e);
    const lean = await queryPage(missing, { filter: FILTERS[0]! }).catch((e) => e);
    assert.ok(isStatus(sdk, 404), String(sdk));
    assert.ok(isStatus(lean, 404), String(lean));
    calls.length = 0;
    versions.length = 0;
    await queryPage(table, { filter: FILTERS[0]!, top: 1 });
    assert.deepEqual(versions, [PINNED_VERSION]);
    assert.deepEqual(
      calls.map(({ operation, status }) => ({ operation, status })),
      [{ operation: "GET entity", status: 200 }],
    );
  });
});
