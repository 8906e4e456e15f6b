/**
 * Where secrets live: Azure Key Vault in Azure (and on Azure Stack Hub), a directory under
 * the data directory on a developer's machine. Versions matter: a signing key is a secret
 * with one version per key, so rotation adds a version and concurrent writers never
 * overwrite each other (see auth/signing-keys.ts).
 */
export interface SecretVersion {
  version: string;
  createdOn: Date;
  /** A disabled version (Key Vault) is as good as gone: that is how an operator revokes a key. */
  enabled: boolean;
}

export interface SecretStore {
  /** Where the secrets are, for start-up messages (never a secret). */
  readonly description: string;
  /** The newest version's value, or undefined when there is no such secret. */
  latest(name: string): Promise<string | undefined>;
  /** Every version of a secret (metadata only); [] when there is no such secret. */
  versions(name: string): Promise<SecretVersion[]>;
  get(name: string, version: string): Promise<string>;
  /** Stores a new version (creating the secret if needed). */
  add(name: string, value: string): Promise<SecretVersion>;
}

/** Secret names both Key Vault (`^[0-9a-zA-Z-]{1,127}$`) and file systems accept. */
export const SECRET_NAME = /^[0-9a-zA-Z-]{1,127}$/;
