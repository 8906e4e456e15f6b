import type { BlockBlobClient } from "@azure/storage-blob";
import type { Lease } from "../ports/collection-store.js";
import { isStatus } from "./storage-errors.js";

/** Seconds a lease lasts unless renewed: bounds how long a crashed holder blocks the next run. */
const LEASE_SECONDS = 60;
const RENEW_MS = 20_000;

/**
 * A single-instance lease on a small blob (Azure blob leases: one holder at a time, expiring
 * on their own when the holder dies). Renewed in the background while held.
 */
export async function acquireBlobLease(blob: BlockBlobClient): Promise<Lease | undefined> {
  try {
    await blob.upload("", 0, { conditions: { ifNoneMatch: "*" } });
  } catch (error) {
    // 409: exists (and may be leased right now); 412: exists
    if (!isStatus(error, 409) && !isStatus(error, 412)) throw error;
  }
  const client = blob.getBlobLeaseClient();
  try {
    await client.acquireLease(LEASE_SECONDS);
  } catch (error) {
    if (isStatus(error, 409)) return undefined;
    throw error;
  }
  const timer = setInterval(() => void client.renewLease().catch(() => undefined), RENEW_MS).unref();
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      clearInterval(timer);
      await client.releaseLease().catch(() => undefined);
    },
  };
}
