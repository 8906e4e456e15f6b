import type { TableClient } from "@azure/data-tables";
import type {
  BootstrapMarker,
  FamiliarAddressStore,
  IdentityKind,
  IdentityRecord,
  IdentityStore,
  LoginFailureStore,
  LoginFailures,
  RefreshTokenRecord,
  RefreshTokenStore,
} from "../ports/identity-storage.js";
import { freeFormKey, odata } from "./table-keys.js";
import { deleteRow, getRow, isStatus, listRows, type Row } from "./table-rows.js";

/**
 * Authentication data in one table, `<prefix>auth`, with a partition per kind of row:
 * `identity` (RowKey = login name), `refresh` (RowKey = token id), `failure` (RowKey =
 * throttle key), `familiar` (RowKey = name and address) and `meta` (the bootstrap marker).
 * Keys that may hold characters Table keys forbid are URI-encoded.
 */
const IDENTITY = "identity";
const REFRESH = "refresh";
const FAILURE = "failure";
const FAMILIAR = "familiar";
const META = "meta";

export class AzureIdentityStore implements IdentityStore {
  constructor(private readonly table: TableClient) {}

  async get(name: string): Promise<IdentityRecord | undefined> {
    const row = await getRow(this.table, IDENTITY, name);
    return row && toIdentity(row);
  }

  async create(record: IdentityRecord): Promise<boolean> {
    try {
      await this.table.createEntity(identityEntity(record));
      return true;
    } catch (error) {
      if (isStatus(error, 409)) return false;
      throw error;
    }
  }

  async replace(record: IdentityRecord): Promise<boolean> {
    try {
      await this.table.updateEntity(identityEntity(record), "Replace", { etag: "*" });
      return true;
    } catch (error) {
      if (isStatus(error, 404)) return false;
      throw error;
    }
  }

  delete(name: string): Promise<boolean> {
    return deleteRow(this.table, IDENTITY, name);
  }

  async list(kind?: IdentityKind): Promise<IdentityRecord[]> {
    const rows = await listRows(this.table, IDENTITY, kind && `kind eq ${odata(kind)}`);
    return rows.map(toIdentity).sort((a, b) => a.name.localeCompare(b.name));
  }
}

function identityEntity(record: IdentityRecord) {
  const { name, access, expiresAt, ...rest } = record;
  return { partitionKey: IDENTITY, rowKey: name, ...rest, access: JSON.stringify(access), expiresAt: expiresAt ?? "" };
}

function toIdentity(row: Row): IdentityRecord {
  const record: IdentityRecord = {
    kind: row.kind as IdentityKind,
    name: row.rowKey as string,
    secretHash: row.secretHash as string,
    access: JSON.parse(row.access as string) as string[],
    createdAt: row.createdAt as string,
    epoch: row.epoch as string,
  };
  if (row.expiresAt) record.expiresAt = row.expiresAt as string;
  return record;
}

export class AzureRefreshTokenStore implements RefreshTokenStore {
  constructor(private readonly table: TableClient) {}

  async create(record: RefreshTokenRecord): Promise<void> {
    const { id, ...rest } = record;
    await this.table.createEntity({ partitionKey: REFRESH, rowKey: id, ...rest });
  }

  async get(id: string): Promise<RefreshTokenRecord | undefined> {
    const row = await getRow(this.table, REFRESH, id);
    if (!row) return undefined;
    const { secretHash, subject, epoch, clientId, createdAt, expiresAt } = row as Record<string, string>;
    return { id, secretHash, subject, epoch, clientId, createdAt, expiresAt } as RefreshTokenRecord;
  }

  async delete(id: string): Promise<void> {
    await deleteRow(this.table, REFRESH, id);
  }

  async deleteForSubject(subject: string): Promise<number> {
    const rows = await listRows(this.table, REFRESH, `subject eq ${odata(subject)}`);
    await Promise.all(rows.map((row) => deleteRow(this.table, REFRESH, row.rowKey as string)));
    return rows.length;
  }
}

export class AzureLoginFailureStore implements LoginFailureStore {
  constructor(private readonly table: TableClient) {}

  async get(key: string): Promise<{ failures: LoginFailures; etag: string } | undefined> {
    const row = await getRow(this.table, FAILURE, freeFormKey(key));
    if (!row) return undefined;
    return {
      failures: { count: Number(row.count), lastFailureAt: Number(row.lastFailureAt) },
      etag: row.etag as string,
    };
  }

  async save(key: string, failures: LoginFailures, etag: string | undefined): Promise<boolean> {
    const entity = { partitionKey: FAILURE, rowKey: freeFormKey(key), ...failures };
    try {
      if (etag === undefined) await this.table.createEntity(entity);
      else await this.table.updateEntity(entity, "Replace", { etag });
      return true;
    } catch (error) {
      if (isStatus(error, 409) || isStatus(error, 412) || isStatus(error, 404)) return false;
      throw error;
    }
  }

  async clear(key: string): Promise<void> {
    await deleteRow(this.table, FAILURE, freeFormKey(key));
  }
}

export class AzureFamiliarAddressStore implements FamiliarAddressStore {
  constructor(private readonly table: TableClient) {}

  async lastSuccess(name: string, address: string): Promise<number | undefined> {
    const row = await getRow(this.table, FAMILIAR, familiarKey(name, address));
    return row ? Number(row.lastSuccessAt) : undefined;
  }

  async remember(name: string, address: string, at: number): Promise<void> {
    await this.table.upsertEntity(
      { partitionKey: FAMILIAR, rowKey: familiarKey(name, address), lastSuccessAt: at },
      "Replace",
    );
  }
}

function familiarKey(name: string, address: string): string {
  return freeFormKey(`${name}|${address}`);
}

export class AzureBootstrapMarker implements BootstrapMarker {
  constructor(private readonly table: TableClient) {}

  async isSet(): Promise<boolean> {
    return (await getRow(this.table, META, "bootstrapped")) !== undefined;
  }

  async set(): Promise<void> {
    await this.table.upsertEntity(
      { partitionKey: META, rowKey: "bootstrapped", at: new Date().toISOString() },
      "Merge",
    );
  }
}
