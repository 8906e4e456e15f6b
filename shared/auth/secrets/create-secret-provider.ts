import type { AuthConfig } from "../../config.js";
import { FileSecretProvider } from "./file-secret-provider.js";
import type { SecretProvider } from "./secret-provider.js";

/**
 * Key Vault when configured, otherwise files under the secrets directory. The Key Vault
 * module (and @azure/identity behind it) is loaded only when used: it is heavy, and a cold
 * start without Key Vault should not pay for it.
 */
export async function createSecretProvider(config: AuthConfig): Promise<SecretProvider> {
  if (!config.keyVault) return new FileSecretProvider(config.secretsDir);
  const { KeyVaultSecretProvider } = await import("./key-vault-secret-provider.js");
  const { url, serviceVersion, disableChallengeResourceVerification } = config.keyVault;
  return new KeyVaultSecretProvider({
    url,
    disableChallengeResourceVerification,
    ...(serviceVersion ? { serviceVersion } : {}),
  });
}

/** The names of the secrets Stowage keeps. */
export function secretNames(config: AuthConfig): { signingKey: string; adminPassword: string } {
  return { signingKey: `${config.secretPrefix}-signing-key`, adminPassword: `${config.secretPrefix}-admin-password` };
}
