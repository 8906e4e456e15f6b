import { RestError } from "@azure/core-rest-pipeline";

/** Whether a storage SDK call failed with this HTTP status (every Azure SDK throws core's RestError). */
export function isStatus(error: unknown, status: number): boolean {
  return error instanceof RestError && error.statusCode === status;
}
