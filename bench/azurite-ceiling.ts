import { randomBytes } from "node:crypto";
import { BlobSASPermissions, BlobServiceClient } from "@azure/storage-blob";
import { download as get } from "./http.js";
import { drainAndHash, HashingTap, type Pattern } from "./pattern.js";
import { BLOCK_BYTES, BLOCKS_IN_FLIGHT } from "./registry-blocks.js";
import { meterCpu, type MeteredThroughput } from "./cpu-split.js";
import { now, throughput, type Throughput } from "./timing.js";

export interface Ceiling {
  /** With the CPU the client and Azurite spent on it. */
  upload: MeteredThroughput;
  /** The download by the storage SDK (its node:http client). */
  download: Throughput;
  /**
   * The same download through a read SAS URL with the bench's own download client, the one the
   * registry pulls are read with (a 307 pull is exactly this after one redirect): the pull
   * targets' reference.
   */
  downloadSameClient: MeteredThroughput;
  digest: string;
}

/**
 * The storage ceiling: the same bytes straight into Azurite with the SDK the registry uses,
 * the way the registry writes them (staged blocks of the default size and count in flight, one block-list commit),
 * hashed on the client as in the registry push, then downloaded and hashed. The container is
 * deleted afterwards.
 */
export async function measureAzuriteCeiling(
  connectionString: string,
  pattern: Pattern,
  timeoutMs: number,
  storagePid?: number,
): Promise<Ceiling> {
  const abortSignal = AbortSignal.timeout(timeoutMs);
  const service = BlobServiceClient.fromConnectionString(connectionString);
  const container = service.getContainerClient(`bench-ceiling-${randomBytes(4).toString("hex")}`);
  await container.create({ abortSignal });
  try {
    const blob = container.getBlockBlobClient("layer");
    const tap = new HashingTap();
    const ids: string[] = [];
    const inFlight = new Set<Promise<void>>();
    let failure: unknown;

    const stopMeter = meterCpu(storagePid);
    const started = now();
    for (const block of tap.tap(pattern.chunks(BLOCK_BYTES))) {
      const id = Buffer.from(`block-${ids.length.toString().padStart(6, "0")}`).toString("base64");
      ids.push(id);
      const pending: Promise<void> = blob.stageBlock(id, block, block.length, { abortSignal }).then(
        () => void inFlight.delete(pending),
        (error: unknown) => {
          failure ??= error;
          inFlight.delete(pending);
        },
      );
      inFlight.add(pending);
      while (inFlight.size >= BLOCKS_IN_FLIGHT) await Promise.race(inFlight);
      if (failure) throw failure;
    }
    await Promise.all(inFlight);
    if (failure) throw failure;
    await blob.commitBlockList(ids, { abortSignal });
    const upload = { ...throughput(tap.bytes, started), cpu: stopMeter() };

    const downloadStarted = now();
    const response = await blob.download(0, undefined, { abortSignal });
    const body = response.readableStreamBody as AsyncIterable<Uint8Array> | undefined;
    if (!body) throw new Error("Azurite download returned no body");
    const read = await drainAndHash(body, pattern.size);
    const download = throughput(read.bytes, downloadStarted);
    if (read.digest !== tap.digest() || read.bytes !== pattern.size) {
      throw new Error(`Azurite download mismatch: ${read.bytes} bytes ${read.digest}, uploaded ${tap.digest()}`);
    }
    const sas = await blob.generateSasUrl({
      permissions: BlobSASPermissions.parse("r"),
      expiresOn: new Date(Date.now() + timeoutMs),
    });
    const stopPlainMeter = meterCpu(storagePid);
    const plainStarted = now();
    const res = await get(sas, timeoutMs);
    if (res.status !== 200) throw new Error(`Azurite SAS download: ${res.status}`);
    const plain = await drainAndHash(res.body, pattern.size);
    const downloadSameClient = { ...throughput(plain.bytes, plainStarted), cpu: stopPlainMeter() };
    if (plain.digest !== tap.digest()) throw new Error("Azurite SAS download mismatch");
    return { upload, download, downloadSameClient, digest: tap.digest() };
  } finally {
    await container.deleteIfExists().catch(() => undefined);
  }
}
