import { loadConfig } from "../shared/app/config.js";

/**
 * How a registry with default settings stages an upload: the Azurite ceiling and the relay
 * control write a layer the same way, so their figures stay like for like with Stowage's.
 */
const defaults = loadConfig({});

/** STOWAGE_BLOCK_SIZE_MIB's default, in bytes. */
export const BLOCK_BYTES = defaults.blockSize;
/** STOWAGE_UPLOAD_CONCURRENCY's default: blocks staged at once. */
export const BLOCKS_IN_FLIGHT = defaults.concurrency;
