import { randomBytes } from "node:crypto";
import { TableClient, TableTransaction, type TableEntity } from "@azure/data-tables";

/** One raw Azurite table operation under closed-loop load. */
export interface TableRate {
  clients: number;
  ops: number;
  seconds: number;
  perSecond: number;
  errors: number;
  firstError?: string;
  p50Ms: number;
}

/**
 * What the registry's manifest paths could do at best on this Azurite: the same table calls
 * the registry makes, straight from the SDK (client options as the server's), nothing else.
 * `read`: one point read (a manifest GET/HEAD by tag). `upsert`: one upsert of a tag row.
 * `batch`: the 2-entity transaction that stores a manifest and its tag. `readBatch`: a point
 * read, then that batch: the least a manifest PUT by tag costs.
 */
export interface TableCeiling {
  /** Bytes of the manifest carried in each tag row, as the registry stores it. */
  entityBytes: number;
  /** Point reads at the manifest load's connection count. */
  readAtConnections: TableRate;
  serial: { read: TableRate; upsert: TableRate; batch: TableRate; readBatch: TableRate };
  parallel: { read: TableRate; upsert: TableRate; batch: TableRate; readBatch: TableRate };
  /** The writes again in a partition holding `rowsBefore` rows (the other partition holds at most 66). */
  grown?: { rowsBefore: number; upsert: TableRate; batch: TableRate; readBatch: TableRate };
}

export interface TableCeilingOptions {
  /** The manifest bytes a tag row carries (the registry inlines small manifests). */
  manifest: Buffer;
  mediaType: string;
  connections: number;
  clients: number;
  /** Seconds of the point reads at `connections` (as long as the registry's manifest load)... */
  seconds: number;
  /** ...and of each other rate. */
  opSeconds: number;
  /** Rows the partition holds before the last writes are timed (0: skipped). */
  fillTo: number;
}

const TIMEOUT = 30_000;
/** Tags the timed writes cycle through (in the grown partition, rows already there); the registries' timed PUTs by tag do the same. */
export const TAGS_WRITTEN = 64;
/** A measurement stops early after this many failures. */
const MAX_ERRORS = 20;

/** Runs `op` from `clients` loops for `seconds` (after a short unmeasured lead-in). */
async function rate(clients: number, seconds: number, op: (n: number) => Promise<unknown>): Promise<TableRate> {
  let n = 0;
  let errors = 0;
  let firstError: string | undefined;
  const latencies: number[] = [];
  const run = async (runSeconds: number, record: boolean) => {
    const deadline = performance.now() + runSeconds * 1000;
    const worker = async () => {
      while (performance.now() < deadline && errors < MAX_ERRORS) {
        const started = performance.now();
        try {
          await op(n++);
          if (record) latencies.push(performance.now() - started);
        } catch (error) {
          errors++;
          firstError ??= (error as Error).message.split("\n")[0];
        }
      }
    };
    const started = performance.now();
    await Promise.all(Array.from({ length: clients }, worker));
    return (performance.now() - started) / 1000;
  };
  await run(Math.min(1, seconds / 5), false);
  errors = 0;
  const elapsed = await run(seconds, true);
  latencies.sort((a, b) => a - b);
  const result: TableRate = {
    clients,
    ops: latencies.length,
    seconds: elapsed,
    perSecond: latencies.length / elapsed,
    errors,
    p50Ms: latencies[Math.floor(latencies.length / 2)] ?? NaN,
  };
  if (firstError) result.firstError = firstError;
  if (result.ops === 0) throw new Error(`no operation succeeded: ${firstError}`);
  return result;
}

/**
 * Measures the Azurite table ceilings in a table of its own (deleted afterwards), rows shaped
 * like the registry's (`tag:` rows carrying the manifest, one `manifest:` row).
 */
export async function measureTableCeiling(
  connectionString: string,
  options: TableCeilingOptions,
): Promise<TableCeiling> {
  const table = TableClient.fromConnectionString(connectionString, `benchceiling${randomBytes(4).toString("hex")}`, {
    allowInsecureConnection: true,
  });
  const abortSignal = () => AbortSignal.timeout(TIMEOUT);
  await table.createTable({ abortSignal: abortSignal() });
  try {
    const digest = `sha256:${randomBytes(32).toString("hex")}`;
    const fields = {
      digest,
      mediaType: options.mediaType,
      size: BigInt(options.manifest.length),
      content: options.manifest,
    };
    const manifestRow = (partitionKey: string): TableEntity => ({
      partitionKey,
      rowKey: `manifest:${digest}`,
      ...fields,
      createdAt: new Date().toISOString(),
    });
    const tagRow = (partitionKey: string, tag: string): TableEntity => ({
      partitionKey,
      rowKey: `tag:${tag}`,
      ...fields,
    });

    const ops = (partitionKey: string) => {
      // a bounded set of tags, so the partition keeps its size however many writes are timed
      const tag = (n: number) => `t${String(n % TAGS_WRITTEN).padStart(6, "0")}`;
      const batch = (n: number) => {
        const tx = new TableTransaction();
        tx.upsertEntity(manifestRow(partitionKey), "Replace");
        tx.upsertEntity(tagRow(partitionKey, tag(n)), "Replace");
        return table.submitTransaction(tx.actions, { abortSignal: abortSignal() });
      };
      return {
        read: () => table.getEntity(partitionKey, "tag:latest", { abortSignal: abortSignal() }),
        upsert: (n: number) =>
          table.upsertEntity(tagRow(partitionKey, tag(n)), "Replace", { abortSignal: abortSignal() }),
        batch,
        readBatch: async (n: number) => {
          await table.getEntity(partitionKey, `manifest:${digest}`, { abortSignal: abortSignal() });
          return batch(n);
        },
      };
    };
    const setUp = async (partitionKey: string) => {
      await table.upsertEntity(manifestRow(partitionKey), "Replace", { abortSignal: abortSignal() });
      await table.upsertEntity(tagRow(partitionKey, "latest"), "Replace", { abortSignal: abortSignal() });
    };

    await setUp("small");
    const small = ops("small");
    const { opSeconds: seconds, clients } = options;
    const readAtConnections = await rate(options.connections, options.seconds, small.read);
    const at = async (n: number) => ({
      read: await rate(n, seconds, small.read),
      upsert: await rate(n, seconds, small.upsert),
      batch: await rate(n, seconds, small.batch),
      readBatch: await rate(n, seconds, small.readBatch),
    });
    const result: TableCeiling = {
      entityBytes: options.manifest.length,
      readAtConnections,
      serial: await at(1),
      parallel: await at(clients),
    };
    if (options.fillTo > 0) {
      await setUp("grown");
      // 100 rows per transaction (the limit), well under its 4 MiB for manifests this size
      const perBatch = Math.max(1, Math.min(100, Math.floor((3 * 1024 * 1024) / (options.manifest.length + 512))));
      for (let filled = 0; filled < options.fillTo; filled += perBatch) {
        const tx = new TableTransaction();
        for (let i = filled; i < Math.min(options.fillTo, filled + perBatch); i++) {
          tx.upsertEntity(tagRow("grown", `t${String(i).padStart(6, "0")}`), "Replace");
        }
        await table.submitTransaction(tx.actions, { abortSignal: abortSignal() });
      }
      const grown = ops("grown");
      result.grown = {
        rowsBefore: Math.max(options.fillTo, TAGS_WRITTEN) + 2,
        upsert: await rate(clients, seconds, grown.upsert),
        batch: await rate(clients, seconds, grown.batch),
        readBatch: await rate(clients, seconds, grown.readBatch),
      };
    }
    return result;
  } finally {
    await table.deleteTable().catch(() => undefined);
  }
}
