import functions, { type InvocationContext, type Timer } from "@azure/functions";
import { functionsApp } from "../shared/adapters/functions-app.js";

const { app } = functions;

/** Forgets uploads abandoned for longer than STOWAGE_UPLOAD_TTL_SECONDS, with their bytes. */
export async function purgeUploadsHandler(_timer: Timer, context: InvocationContext): Promise<void> {
  const purged = await (await functionsApp()).registry.uploads.purgeExpired();
  context.log(`garbage collection: ${purged.length} abandoned upload(s) purged`);
}

// The schedule comes from the app setting STOWAGE_GC_SCHEDULE (an NCRONTAB expression).
app.timer("purgeUploads", { schedule: "%STOWAGE_GC_SCHEDULE%", handler: purgeUploadsHandler });
