import { randomUUID } from "node:crypto";
import type { PipelineResponse } from "@azure/core-rest-pipeline";
import { RestError, type TableClient, type TransactionAction, type UpdateMode } from "@azure/data-tables";
import { entityUrl, sendTableRequest, serviceError, tableUrl, type Row } from "./table-point-read.js";

/**
 * Table writes as the SDK's `createEntity`, `upsertEntity` and `submitTransaction` send them (same URLs, headers
 * and bodies, through the table client's own pipeline: credentials, pinned API version,
 * retries, call metrics), without the SDK's per-call machinery: `submitTransaction` builds a
 * whole new table client and runs each operation of the batch through a pipeline of its own to
 * serialize it, which cost more CPU than the rest of a manifest PUT's batch call. (Cosmos DB
 * table endpoints, for which the SDK rewrites a batch's PATCH operations, are not a target.)
 */

const LINE = "\r\n";
const JSON_HEADERS = { "Content-Type": "application/json", DataServiceVersion: "3.0", Accept: "application/json" };

/** Inserts or updates a row (`Replace`: the row becomes `entity`; `Merge`: its other properties stay). */
export async function upsertRow(table: TableClient, entity: Row, mode: UpdateMode = "Merge"): Promise<void> {
  const response = await sendTableRequest(table, {
    url: entityUrl(table, entity.partitionKey as string, entity.rowKey as string),
    method: mode === "Replace" ? "PUT" : "PATCH",
    headers: JSON_HEADERS,
    body: JSON.stringify(encodeEntity(entity)),
  });
  if (response.status !== 204) throw serviceError(response, parsedJson(response.bodyAsText));
}

/** Inserts a row that must not exist yet: a RestError with status 409 if it does, as `createEntity` fails. */
export async function insertRow(table: TableClient, entity: Row): Promise<void> {
  const response = await sendTableRequest(table, {
    url: tableUrl(table),
    method: "POST",
    headers: {
      "Content-Type": "application/json;odata=nometadata",
      Accept: "application/json;odata=minimalmetadata",
      DataServiceVersion: "3.0",
      Prefer: "return-no-content",
    },
    body: JSON.stringify(encodeEntity(entity)),
  });
  if (response.status !== 204) throw serviceError(response, parsedJson(response.bodyAsText));
}

/**
 * An entity-group transaction of upserts, updates and deletes (one partition, up to 100 rows), failing
 * as `submitTransaction` fails: a RestError with the failed operation's status and code.
 */
export async function submitBatch(table: TableClient, actions: TransactionAction[]): Promise<void> {
  const batch = `batch_${randomUUID()}`;
  const changeset = `changeset_${randomUUID()}`;
  const parts = [`--${batch}${LINE}content-type: multipart/mixed; boundary=${changeset}${LINE}${LINE}`];
  for (const action of actions) parts.push(subRequest(table, changeset, action));
  const body = `${parts.join(LINE)}${LINE}--${changeset}--${LINE}--${batch}--${LINE}`;
  // the SAS, if the client's URL carries one, follows `$batch`
  const [base, sas] = table.url.split("?");
  const response = await sendTableRequest(table, {
    url: `${base!.endsWith("/") ? base : `${base}/`}$batch${sas !== undefined ? `?${sas}` : ""}`,
    method: "POST",
    headers: {
      accept: "application/json",
      DataServiceVersion: "3.0;",
      MaxDataServiceVersion: "3.0;NetFx",
      "Content-Type": `multipart/mixed; boundary=${batch}`,
      "Accept-Charset": "UTF-8",
      Connection: "Keep-Alive",
    },
    body,
  });
  checkBatchResponse(response);
}

/** One operation of the changeset, as an HTTP request in the multipart body. */
function subRequest(table: TableClient, changeset: string, action: TransactionAction): string {
  const [kind, entity] = action;
  const url = withoutSas(entityUrl(table, entity.partitionKey, entity.rowKey));
  const lines = [`--${changeset}`, "content-type: application/http", "content-transfer-encoding: binary", ""];
  if (kind === "upsert" || kind === "update") {
    lines.push(`${action[2] === "Replace" ? "PUT" : "PATCH"} ${url} HTTP/1.1`);
    for (const [name, value] of Object.entries(JSON_HEADERS)) lines.push(`${name}: ${value}`);
    // an update applies only to a row that exists (any row: "*"), or to the version `etag` names
    if (kind === "update") lines.push(`If-Match: ${action[3]?.etag ?? "*"}`);
    lines.push(LINE, JSON.stringify(encodeEntity(entity)));
  } else if (kind === "delete") {
    lines.push(`DELETE ${url} HTTP/1.1`);
    lines.push("Accept: application/json;odata=minimalmetadata", "DataServiceVersion: 3.0", "If-Match: *", LINE);
  } else {
    throw new Error(`table batch: unsupported action ${kind}`);
  }
  return lines.join(LINE);
}

/** Operations in a batch carry no SAS of their own: the batch request does. */
const SAS_PARAMETERS = ["sv", "ss", "srt", "sp", "se", "st", "spr", "sig"];

function withoutSas(url: string): string {
  if (!url.includes("?")) return url;
  const parsed = new URL(url);
  for (const name of SAS_PARAMETERS) parsed.searchParams.delete(name);
  return parsed.toString();
}

/** Throws what the SDK throws for a failed batch, or for the failed operation within it. */
function checkBatchResponse(response: PipelineResponse): void {
  const text = response.bodyAsText ?? "";
  if (response.status < 200 || response.status >= 300) throw batchError(text, response.status, response);
  const subResponses = text.split("--changesetresponse_").slice(1, -1);
  for (const sub of subResponses) {
    const status = Number(/HTTP\/1.1 ([0-9]*)/.exec(sub)?.[1]);
    if (!Number.isInteger(status)) throw new Error(`Couldn't extract status from sub-response:\n ${sub}`);
    const error = /\{(.*)\}/.exec(sub);
    if (error) throw batchError(error[0], status, response);
  }
}

function batchError(text: string, statusCode: number, response: PipelineResponse): RestError {
  const odataError = (parsedJson(text) as { "odata.error"?: { code?: string; message?: { value?: string } } })?.[
    "odata.error"
  ];
  return new RestError(odataError?.message?.value ?? "Transaction Failed", {
    code: odataError?.code,
    statusCode,
    request: response.request,
    response,
  });
}

function parsedJson(text: string | null | undefined): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}

const PROPERTY_NAMES: Record<string, string> = {
  partitionKey: "PartitionKey",
  rowKey: "RowKey",
  etag: "odata.etag",
  timestamp: "Timestamp",
};

/** The SDK's entity serialization: wire names, and an `@odata.type` after each typed value. */
export function encodeEntity(entity: Row): Row {
  const encoded: Row = {};
  for (const [name, value] of Object.entries(entity)) {
    const wireName = PROPERTY_NAMES[name] ?? name;
    const [wireValue, type] = typed(value);
    encoded[wireName] = wireValue;
    if (type) encoded[`${wireName}@odata.type`] = type;
  }
  return encoded;
}

const EDM_TYPES = new Set(["Boolean", "DateTime", "Double", "Guid", "Int32", "Int64", "String", "Binary"]);

function typed(value: unknown): [unknown, string?] {
  if (value === undefined || value === null) return [value];
  switch (typeof value) {
    case "boolean":
    case "string":
    case "number":
      return [value];
    case "bigint":
      return [value.toString(), "Edm.Int64"];
  }
  if (value instanceof Date) return [value, "Edm.DateTime"];
  if (value instanceof Uint8Array)
    return [Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("base64"), "Edm.Binary"];
  // the SDK's explicitly typed form, `{ value, type: "Int64" }`
  const { value: inner, type } = value as { value?: unknown; type?: unknown };
  if (inner !== undefined && typeof type === "string" && EDM_TYPES.has(type)) return [inner, `Edm.${type}`];
  throw new Error(`Unknown EDM type ${typeof value}`);
}
