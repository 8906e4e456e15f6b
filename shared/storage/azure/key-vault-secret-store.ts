import { DefaultAzureCredential } from "@azure/identity";
import { SecretClient, type SecretClientOptions } from "@azure/keyvault-secrets";
import type { SecretStore, SecretVersion } from "../ports/secret-store.js";

/** Any Azure credential (`@azure/identity`), typed by what the SDK takes. */
export type TokenCredential = ConstructorParameters<typeof SecretClient>[1];

export interface KeyVaultOptions {
  /** `https://<vault>.vault.azure.net` (or the Azure Stack Hub vault's URL). */
  url: string;
  /** Key Vault REST API version; Azure Stack Hub needs "7.1". */
  serviceVersion?: SecretClientOptions["serviceVersion"];
  /** Azure Stack Hub's challenge names a resource outside the vault's domain: skip that check. */
  disableChallengeResourceVerification?: boolean;
  /**
   * Defaults to DefaultAzureCredential: a managed identity in Azure, or a service principal
   * from AZURE_TENANT_ID / AZURE_CLIENT_ID / AZURE_CLIENT_SECRET (and AZURE_AUTHORITY_HOST on
   * Stack Hub).
   */
  credential?: TokenCredential;
  /** Extra pipeline options (tests pass an HTTPS agent that trusts their own certificate). */
  clientOptions?: SecretClientOptions;
}

/** Secrets in Azure Key Vault through the official SDK. Errors never carry a secret's value. */
export class KeyVaultSecretStore implements SecretStore {
  readonly description: string;
  private readonly client: SecretClient;

  constructor(options: KeyVaultOptions) {
    const clientOptions: SecretClientOptions = { ...options.clientOptions };
    if (options.serviceVersion) clientOptions.serviceVersion = options.serviceVersion;
    if (options.disableChallengeResourceVerification) clientOptions.disableChallengeResourceVerification = true;
    this.client = new SecretClient(options.url, options.credential ?? new DefaultAzureCredential(), clientOptions);
    this.description = `Azure Key Vault ${options.url}`;
  }

  async latest(name: string): Promise<string | undefined> {
    try {
      return (await this.client.getSecret(name)).value;
    } catch (error) {
      if (statusOf(error) === 404) return undefined;
      throw failure("read", name, error);
    }
  }

  async versions(name: string): Promise<SecretVersion[]> {
    const versions: SecretVersion[] = [];
    try {
      for await (const properties of this.client.listPropertiesOfSecretVersions(name)) {
        if (!properties.version || !properties.createdOn) continue;
        versions.push({
          version: properties.version,
          createdOn: properties.createdOn,
          enabled: properties.enabled !== false,
        });
      }
    } catch (error) {
      if (statusOf(error) === 404) return [];
      throw failure("list versions of", name, error);
    }
    return versions;
  }

  async get(name: string, version: string): Promise<string> {
    try {
      const secret = await this.client.getSecret(name, { version });
      if (secret.value === undefined) throw new Error("no value");
      return secret.value;
    } catch (error) {
      throw failure("read", name, error);
    }
  }

  async add(name: string, value: string): Promise<SecretVersion> {
    try {
      const { properties } = await this.client.setSecret(name, value);
      return { version: properties.version ?? "", createdOn: properties.createdOn ?? new Date(), enabled: true };
    } catch (error) {
      throw failure("write", name, error);
    }
  }
}

function statusOf(error: unknown): number | undefined {
  return (error as { statusCode?: number } | undefined)?.statusCode;
}

/**
 * A new error naming the operation and status only: the SDK's RestError carries the request,
 * whose body would be the secret on a write.
 */
function failure(operation: string, name: string, error: unknown): Error {
  const status = statusOf(error);
  const code = (error as { code?: string } | undefined)?.code;
  const reason =
    status !== undefined
      ? `HTTP ${status}${code ? ` ${code}` : ""}`
      : error instanceof Error
        ? error.message
        : "unknown error";
  return new Error(`Key Vault: could not ${operation} secret "${name}": ${reason}`);
}
