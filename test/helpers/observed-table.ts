import { TableClient } from "@azure/data-tables";
import { tableVersionPolicy } from "../../shared/storage/azure/api-version-policy.js";
import { storageCallPolicy, type StorageCall } from "../../shared/storage/azure/storage-call-policy.js";

/** An API version older than the SDK's, pinned as on Azure Stack Hub. */
export const PINNED_VERSION = "2019-07-07";

/**
 * A table client as the server builds one (plain HTTP to Azurite, pinned API version, call
 * metrics), that also records the `x-ms-version` each request is signed with into `versions`.
 */
export function observedTable(
  connectionString: string,
  name: string,
  seen: { calls: StorageCall[]; versions: string[] },
): TableClient {
  const table = TableClient.fromConnectionString(connectionString, name, {
    allowInsecureConnection: true,
    additionalPolicies: [tableVersionPolicy(PINNED_VERSION)],
  });
  table.pipeline.addPolicy(
    {
      name: "recordVersion",
      sendRequest: (request, next) => {
        seen.versions.push(request.headers.get("x-ms-version") ?? "");
        return next(request);
      },
    },
    { phase: "Sign" },
  );
  table.pipeline.addPolicy(storageCallPolicy("table", (call) => seen.calls.push(call)));
  return table;
}
