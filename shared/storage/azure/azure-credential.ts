import type { TokenCredential } from "@azure/identity";

let shared: Promise<TokenCredential> | undefined;

/**
 * One DefaultAzureCredential per process: a managed identity in Azure, or a service principal
 * from AZURE_TENANT_ID / AZURE_CLIENT_ID / AZURE_CLIENT_SECRET (or AZURE_CLIENT_CERTIFICATE_PATH),
 * with AZURE_AUTHORITY_HOST for Azure Stack Hub's AD FS or another cloud's Entra ID. Loaded on
 * first use: @azure/identity is heavy, and connection-string deployments never need it.
 */
export function defaultAzureCredential(): Promise<TokenCredential> {
  shared ??= import("@azure/identity").then(({ DefaultAzureCredential }) => new DefaultAzureCredential());
  return shared;
}
