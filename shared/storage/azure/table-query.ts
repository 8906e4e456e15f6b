import type { TableClient } from "@azure/data-tables";
import { decodeEntity, parsedBody, sendTableRequest, serviceError, tableUrl, type Row } from "./table-point-read.js";

/** Where a query's next page starts (the service's continuation), absent after the last page. */
export interface QueryContinuation {
  nextPartitionKey: string;
  nextRowKey?: string | undefined;
}

export interface QueryPage {
  rows: Row[];
  next: QueryContinuation | undefined;
}

/**
 * One page of a query, sent as the SDK's `listEntities(...).byPage()` sends it (same URL, query
 * parameters and headers, through the table client's own pipeline: credentials, pinned API
 * version, retries, call metrics), with the rows decoded as the SDK decodes them. The SDK's
 * pager runs a tracing span and the generated client's (de)serialization per page; opening an
 * upload counts the repository's open ones with one such page.
 */
export async function queryPage(
  table: TableClient,
  query: { filter: string; select?: string[]; top?: number; continuation?: QueryContinuation | undefined },
): Promise<QueryPage> {
  const parameters: string[] = [];
  if (query.top !== undefined) parameters.push(`$top=${query.top}`);
  if (query.select) parameters.push(`$select=${encode(query.select.join(","))}`);
  parameters.push(`$filter=${encode(query.filter)}`);
  const { continuation } = query;
  if (continuation) {
    parameters.push(`NextPartitionKey=${encode(continuation.nextPartitionKey)}`);
    if (continuation.nextRowKey) parameters.push(`NextRowKey=${encode(continuation.nextRowKey)}`);
  }
  const url = new URL(tableUrl(table, "()"));
  // after the client's own query (a SAS), if any
  url.search = `${url.search ? `${url.search}&` : "?"}${parameters.join("&")}`;
  const response = await sendTableRequest(table, {
    url: url.toString(),
    method: "GET",
    headers: { Accept: "application/json;odata=minimalmetadata", DataServiceVersion: "3.0" },
  });
  const body = parsedBody(response) as { value?: Row[] } | undefined;
  if (response.status !== 200) throw serviceError(response, body);
  const nextPartitionKey = response.headers.get("x-ms-continuation-NextPartitionKey");
  return {
    rows: (body?.value ?? []).map(decodeEntity),
    next: nextPartitionKey
      ? { nextPartitionKey, nextRowKey: response.headers.get("x-ms-continuation-NextRowKey") ?? undefined }
      : undefined,
  };
}

/** A query parameter's value as the SDK's URL builder encodes it (`'` too). */
function encode(value: string): string {
  return encodeURIComponent(value).replace(/'/g, "%27");
}
