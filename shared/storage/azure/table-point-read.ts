import { createPipelineRequest, type PipelineResponse } from "@azure/core-rest-pipeline";
import { RestError, type TableClient, type TableEntityResult } from "@azure/data-tables";
import { smallCallClient } from "./small-call-client.js";

export type Row = Record<string, unknown>;

/** What the SDK's generated client sends (`x-ms-version`; a pinning policy replaces it). */
const SDK_API_VERSION = "2019-02-02";

/**
 * A point read; undefined when the row does not exist. Sent as the SDK's `getEntity` sends it
 * (same URL and headers, through the table client's own pipeline: credentials, pinned API
 * version, retries, call metrics), but the entity JSON is decoded here: the generated client's
 * operation (de)serialization costs more CPU than the rest of the call, and a manifest read by
 * tag is one such call. With `select`, only those properties (and the keys) come back.
 */
export async function getRow(
  table: TableClient,
  partitionKey: string,
  rowKey: string,
  select?: readonly string[],
): Promise<TableEntityResult<Row> | undefined> {
  const url = entityUrl(table, partitionKey, rowKey);
  const response = await sendTableRequest(table, {
    // only the named properties travel: a tag row can carry a manifest of several KiB, which
    // storage would serialize and this process parse (as JSON, then base64) for nothing
    url: select ? `${url}${url.includes("?") ? "&" : "?"}$select=${select.join(",")}` : url,
    method: "GET",
    headers: { Accept: "application/json;odata=minimalmetadata", DataServiceVersion: "3.0" },
  });
  // as getEntity's callers saw it: a missing row and a missing table are both "not there"
  if (response.status === 404) return undefined;
  const body = parsedBody(response);
  if (response.status !== 200) throw serviceError(response, body);
  return decodeEntity(body as Row) as TableEntityResult<Row>;
}

/**
 * Sends a request as the SDK's own operations do: through the table client's pipeline
 * (credentials, pinned API version, retries, call metrics), with the SDK's API version header
 * (which the pinning policy replaces) and the client's insecure-connection option; on the wire
 * by the small-call client (small-call-client.ts).
 */
export function sendTableRequest(
  table: TableClient,
  options: { url: string; method: "GET" | "POST" | "PUT" | "PATCH"; headers: Record<string, string>; body?: string },
): Promise<PipelineResponse> {
  const request = createPipelineRequest({ url: options.url, method: options.method });
  for (const [name, value] of Object.entries(options.headers)) request.headers.set(name, value);
  if (!request.headers.has("x-ms-version")) request.headers.set("x-ms-version", SDK_API_VERSION);
  if (options.body !== undefined) request.body = options.body;
  // the client's option (kept private by the SDK), which its own operations copy onto each request
  if ((table as unknown as { allowInsecureConnection?: boolean }).allowInsecureConnection)
    request.allowInsecureConnection = true;
  return table.pipeline.sendRequest(smallCallClient(), request);
}

/** `{table}(PartitionKey='..',RowKey='..')` under the client's URL (which may carry a SAS), as the SDK builds it. */
export function entityUrl(table: TableClient, partitionKey: string, rowKey: string): string {
  return tableUrl(table, `(PartitionKey='${key(partitionKey)}',RowKey='${key(rowKey)}')`);
}

/** `{table}{suffix}` under the client's URL (which may carry a SAS): an insert's `{table}`, a query's `{table}()`. */
export function tableUrl(table: TableClient, suffix = ""): string {
  const url = new URL(table.url);
  const base = url.pathname.endsWith("/") ? url.pathname : `${url.pathname}/`;
  url.pathname = `${base}${encodeURIComponent(table.tableName)}${suffix}`;
  return url.toString();
}

/** An OData string literal's content (quotes doubled), URI-encoded. */
export function key(value: string): string {
  return encodeURIComponent(value.replace(/'/g, "''"));
}

export function parsedBody(response: PipelineResponse): unknown {
  // the client pipeline's deserialization policy has parsed a JSON body already
  const parsed = (response as { parsedBody?: unknown }).parsedBody;
  if (parsed !== undefined) return parsed;
  try {
    return response.bodyAsText ? JSON.parse(response.bodyAsText) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The error getEntity throws for a failed call: a RestError with the status, the body as its
 * message and the service's error code in `details` (the generated client leaves `code` unset).
 */
export function serviceError(response: PipelineResponse, body: unknown): RestError {
  const error = new RestError(response.bodyAsText ?? `table storage answered ${response.status}`, {
    statusCode: response.status,
    request: response.request,
    response,
  });
  error.details = {
    errorCode: response.headers.get("x-ms-error-code"),
    odataError: (body as { "odata.error"?: unknown } | undefined)?.["odata.error"],
  };
  return error;
}

const PROPERTY_NAMES: Record<string, string> = {
  PartitionKey: "partitionKey",
  RowKey: "rowKey",
  "odata.etag": "etag",
  Timestamp: "timestamp",
};

/** The SDK's entity decoding (with type conversion): typed values from their `@odata.type` annotations. */
export function decodeEntity(body: Row): Row {
  const entity: Row = {};
  for (const [name, value] of Object.entries(body)) {
    if (name.includes("@odata.type")) continue;
    const type = body[`${name}@odata.type`];
    entity[PROPERTY_NAMES[name] ?? name] = type === undefined ? value : typed(value, type);
  }
  return entity;
}

function typed(value: unknown, type: unknown): unknown {
  switch (type) {
    case "Edm.Binary":
      return Buffer.from(value as string, "base64");
    case "Edm.Int64":
      return BigInt(value as string);
    case "Edm.DateTime":
      return new Date(value as string);
    case "Edm.Guid":
      return { value, type: "Guid" };
    case "Edm.Boolean":
    case "Edm.Double":
    case "Edm.Int32":
    case "Edm.String":
      return value;
    default:
      throw new Error(`Unknown EDM type ${String(type)}`);
  }
}
