import type { AuthConfig } from "./config.js";
import type { SecretStore } from "../storage/ports/secret-store.js";
import { FileSecretStore } from "../storage/local/file-secret-store.js";

/**
 * Key Vault when configured, otherwise files under the secrets directory. The Key Vault
 * module (and @azure/identity behind it) is loaded only when used: it is heavy, and a cold
 * start without Key Vault should not pay for it.
 */
export async function openSecretStore(config: AuthConfig): Promise<SecretStore> {
  if (!config.keyVault) return new FileSecretStore(config.secretsDir);
  const { KeyVaultSecretStore } = await import("../storage/azure/key-vault-secret-store.js");
  const { defaultAzureCredential } = await import("../storage/azure/azure-credential.js");
  const { url, serviceVersion, disableChallengeResourceVerification } = config.keyVault;
  return new KeyVaultSecretStore({
    url,
    credential: await defaultAzureCredential(), // the one storage uses too: one token cache per process
    disableChallengeResourceVerification,
    ...(serviceVersion ? { serviceVersion } : {}),
  });
}

/** The names of the secrets Stowage keeps. */
export function secretNames(config: AuthConfig): { signingKey: string; adminPassword: string } {
  return { signingKey: `${config.secretPrefix}-signing-key`, adminPassword: `${config.secretPrefix}-admin-password` };
}
