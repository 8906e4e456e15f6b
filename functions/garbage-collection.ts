import functions, { type InvocationContext, type Timer } from "@azure/functions";
import { functionsApp } from "../shared/adapters/functions-app.js";
import { describeGc } from "../shared/registry/gc-report.js";

const { app } = functions;

/**
 * Garbage collection on a timer: abandoned uploads, retention, unreferenced blobs and empty
 * repositories (only the uploads when STOWAGE_GC_SWEEP is off).
 */
export async function purgeUploadsHandler(_timer: Timer, context: InvocationContext): Promise<void> {
  const stowage = await functionsApp();
  if (!stowage.config.gc.sweep) {
    const purged = await stowage.registry.uploads.purgeExpired();
    context.log(`garbage collection: ${purged.length} abandoned upload(s) purged`);
    return;
  }
  const report = await stowage.lifecycle.collectGarbage();
  for (const line of describeGc(report)) context.log(line);
}

// The schedule comes from the app setting STOWAGE_GC_SCHEDULE (an NCRONTAB expression).
app.timer("purgeUploads", { schedule: "%STOWAGE_GC_SCHEDULE%", handler: purgeUploadsHandler });
