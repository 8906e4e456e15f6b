import { parseDuration } from "../lib/duration.js";
import { describeGc } from "../registry/gc-report.js";
import { assertName } from "../registry/references.js";
import { parseArgs, UsageError } from "./args.js";
import { one, type Command } from "./command.js";

export const LIFECYCLE_USAGE = `  gc [--dry-run] [--json] [--grace DURATION]  (abandoned uploads, retention, unreferenced blobs;
                                             DURATION: seconds, 30m, 6h, 2d; default STOWAGE_GC_GRACE)
  usage [--json]                             (manifests, tags and bytes per repository)
  repo delete NAME                           (tags, manifests and links; bytes go with the next gc)`;

const gc: Command = async (app, argv, io) => {
  const args = parseArgs(argv, { options: ["grace"], switches: ["dry-run", "json"] });
  if (args.positional.length > 0) throw new UsageError("gc takes no arguments");
  const graceText = args.options.get("grace")?.at(-1);
  const graceMs = graceText === undefined ? undefined : parseDuration(graceText);
  if (graceText !== undefined && graceMs === undefined)
    throw new UsageError(`--grace: "${graceText}" is not seconds, 30m, 6h or 2d`);
  const report = await app.lifecycle.collectGarbage({
    dryRun: args.switches.has("dry-run"),
    ...(graceMs !== undefined ? { graceMs } : {}),
  });
  if (args.switches.has("json")) io.out(JSON.stringify(report, null, 2));
  else for (const line of describeGc(report)) io.out(line);
};

const usage: Command = async (app, argv, io) => {
  const args = parseArgs(argv, { switches: ["json"] });
  if (args.positional.length > 0) throw new UsageError("usage takes no arguments");
  const report = await app.lifecycle.usage();
  if (args.switches.has("json")) return io.out(JSON.stringify(report, null, 2));
  io.out("REPOSITORY\tMANIFESTS\tTAGS\tBYTES");
  for (const r of report.repositories) io.out(`${r.repository}\t${r.manifests}\t${r.tags}\t${r.bytes}`);
  const t = report.total;
  io.out(`(total: ${t.repositories} repositories)\t${t.manifests}\t${t.tags}\t${t.bytes}`);
};

const repoDelete: Command = async (app, argv, io) => {
  const name = assertName(one(parseArgs(argv, {}).positional, "repository name"));
  const { rows } = await app.lifecycle.deleteRepository(name);
  io.note(`repository ${name} deleted (${rows} row(s)); its bytes go with the next gc`);
};

export const LIFECYCLE_COMMANDS: Record<string, Command> = { gc, usage, "repo delete": repoDelete };
