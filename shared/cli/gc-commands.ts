import { parseArgs, UsageError } from "./args.js";
import type { Command } from "./command.js";

export const GC_USAGE = `  gc uploads [--dry-run]                   (purges uploads older than STOWAGE_UPLOAD_TTL_SECONDS)`;

const gcUploads: Command = async (app, argv, io) => {
  const args = parseArgs(argv, { options: [], switches: ["dry-run"] });
  if (args.positional.length > 0) throw new UsageError("gc uploads takes no arguments");
  const dryRun = args.switches.has("dry-run");
  const expired = await app.registry.uploads.purgeExpired(dryRun);
  for (const s of expired) io.out(`${s.repository}\t${s.id}\tstarted ${s.startedAt}\t${s.offset} bytes`);
  io.note(`${expired.length} abandoned upload(s) ${dryRun ? "would be purged (dry run)" : "purged"}`);
};

export const GC_COMMANDS: Record<string, Command> = { "gc uploads": gcUploads };
