import type { Config } from "../app/config.js";
import { runningAzurite, startDataDirAzurite } from "../server/data-dir-azurite.js";

/**
 * The storage the CLI manages: the configured account, or the embedded Azurite's data
 * directory. A running server's Azurite is used as is (a second Azurite on the same directory
 * would overwrite its data); with no server running the CLI starts Azurite on the directory
 * for the duration of the command, and the server refuses to start meanwhile.
 */
export async function openStorage(
  config: Config,
): Promise<{ connectionString: string | undefined; close(): Promise<void>; description: string }> {
  if (config.connectionString || config.storageAccount) {
    return {
      connectionString: config.connectionString, // undefined: the account, with DefaultAzureCredential
      close: async () => undefined,
      description: "the configured storage account",
    };
  }
  const running = await runningAzurite(config.dataDir);
  if (running)
    return {
      connectionString: running,
      close: async () => undefined,
      description: `the running server's Azurite (${config.dataDir})`,
    };
  const azurite = await startDataDirAzurite(config.dataDir);
  return {
    connectionString: azurite.connectionString,
    close: () => azurite.stop(),
    description: `Azurite on ${config.dataDir}`,
  };
}
