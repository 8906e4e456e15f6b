import { RestError, type TableClient, type TableEntityResult } from "@azure/data-tables";

/** Small helpers shared by the Table Storage stores. */

export type Row = Record<string, unknown>;

export function isStatus(error: unknown, status: number): boolean {
  return error instanceof RestError && error.statusCode === status;
}

/** A point read; undefined when the row does not exist. */
export async function getRow(
  table: TableClient,
  partitionKey: string,
  rowKey: string,
): Promise<TableEntityResult<Row> | undefined> {
  try {
    return await table.getEntity<Row>(partitionKey, rowKey);
  } catch (error) {
    if (isStatus(error, 404)) return undefined;
    throw error;
  }
}

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
