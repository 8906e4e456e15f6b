import type { TokenCredential } from "@azure/identity";

/** A storage account reached with a token credential (managed identity, service principal). */
export interface StorageAccount {
  name: string;
  /** `core.windows.net` in public Azure; `<region>.<external domain>` on Azure Stack Hub. */
  endpointSuffix: string;
  credential: TokenCredential;
}

/** How to reach the account: a connection string (account key or SAS), or an account and a credential. */
export type StorageConnection = { connectionString: string } | { account: StorageAccount };

/** A service endpoint of an account: `https://<account>.<service>.<suffix>` (Azure and Stack Hub alike). */
export function accountUrl(
  account: Pick<StorageAccount, "name" | "endpointSuffix">,
  service: "blob" | "queue" | "table",
): string {
  return `https://${account.name}.${service}.${account.endpointSuffix}`;
}
