import type { TableClient, TableEntityResult } from "@azure/data-tables";
import { isStatus } from "./storage-errors.js";
import type { Row } from "./table-point-read.js";

/** Small helpers shared by the Table Storage stores. */

export { getRow, type Row } from "./table-point-read.js";
export { isStatus } from "./storage-errors.js";

/** Deletes a row; false when it was not there. */
export async function deleteRow(table: TableClient, partitionKey: string, rowKey: string): Promise<boolean> {
  try {
    await table.deleteEntity(partitionKey, rowKey);
    return true;
  } catch (error) {
    if (isStatus(error, 404)) return false;
    throw error;
  }
}

/** Every row of a partition matching an optional extra OData filter. */
export async function listRows(
  table: TableClient,
  partitionKey: string,
  filter?: string,
): Promise<TableEntityResult<Row>[]> {
  const clauses = [`PartitionKey eq '${partitionKey.replace(/'/g, "''")}'`];
  if (filter) clauses.push(filter);
  const rows: TableEntityResult<Row>[] = [];
  for await (const row of table.listEntities<Row>({ queryOptions: { filter: clauses.join(" and ") } })) rows.push(row);
  return rows;
}
