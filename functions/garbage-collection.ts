import functions, { type InvocationContext, type Timer } from "@azure/functions";
import { lazy } from "../shared/adapters/functions-http.js";
import { loadConfig } from "../shared/config.js";
import { createRegistryService } from "../shared/create-registry.js";

const { app } = functions;

const registry = lazy(async () => {
  const config = loadConfig();
  if (!config.connectionString) throw new Error("STOWAGE_STORAGE_CONNECTION_STRING is not set");
  return createRegistryService(config, config.connectionString);
});

/** Forgets uploads abandoned for longer than STOWAGE_UPLOAD_TTL_SECONDS, with their bytes. */
export async function purgeUploadsHandler(_timer: Timer, context: InvocationContext): Promise<void> {
  const purged = await (await registry()).uploads.purgeExpired();
  context.log(`garbage collection: ${purged.length} abandoned upload(s) purged`);
}

// The schedule comes from the app setting STOWAGE_GC_SCHEDULE (an NCRONTAB expression).
app.timer("purgeUploads", { schedule: "%STOWAGE_GC_SCHEDULE%", handler: purgeUploadsHandler });
