import { ADMIN_RULES } from "../auth/permissions.js";
import { formatScope } from "../auth/scopes.js";
import { generateSecret } from "../auth/passwords.js";
import type { IdentityAdmin } from "../auth/identity-admin.js";
import type { SigningKeys } from "../auth/signing-keys.js";
import type { RegistryService } from "../registry/registry-service.js";
import type { IdentityRecord } from "../storage/identity-ports.js";
import type { Webhooks } from "../webhooks/create-webhooks.js";
import { parseArgs, parseExpiry, UsageError } from "./args.js";
import { WEBHOOK_USAGE } from "./webhook-commands.js";

/** Where a command writes: results (secrets included) to `out`, remarks to `note`. */
export interface Io {
  out(line: string): void;
  note(line: string): void;
  /** All of standard input (for --password-stdin). */
  readStdin(): Promise<string>;
}

/** What the commands work on; the signing keys are opened only by the command that needs them. */
export interface CliContext {
  admin: IdentityAdmin;
  keys(): Promise<{ keys: SigningKeys; where: string }>;
  /** Webhook subscriptions, dead letters and delivery queue (opened by the webhook commands). */
  webhooks(): Promise<Webhooks>;
  /** The registry domain (opened by the garbage-collection command). */
  registry(): Promise<RegistryService>;
}

export type Command = (auth: CliContext, argv: string[], io: Io) => Promise<void>;

export const USAGE = `usage: npm run cli -- <command>
  user add NAME [--allow RULE]... [--admin] [--password-stdin]
  user list
  user passwd NAME [--password-stdin]      (also revokes NAME's refresh tokens)
  user logout NAME                         (revokes NAME's refresh tokens: docker logins)
  user remove NAME
  token create NAME --allow RULE... [--expires 90d|12h|30m|DATE|never]   (default 90d)
  token list
  token revoke NAME
  keys rotate
  gc uploads [--dry-run]                   (purges uploads older than STOWAGE_UPLOAD_TTL_SECONDS)
${WEBHOOK_USAGE}
RULE: team/*:pull  team/app:pull,push,delete  *:*  catalog  (or a full scope, repository:x:pull)
Without --password-stdin a password is generated; generated passwords and token secrets are
printed once, on standard output.`;

const one = (positional: string[], what: string): string => {
  if (positional.length !== 1) throw new UsageError(`expected exactly one ${what}`);
  return positional[0] as string;
};

async function passwordFrom(io: Io, fromStdin: boolean): Promise<{ password: string; generated: boolean }> {
  if (!fromStdin) return { password: generateSecret(18), generated: true };
  const password = (await io.readStdin()).replace(/\r?\n$/, "");
  return { password, generated: false };
}

const userAdd: Command = async (auth, argv, io) => {
  const args = parseArgs(argv, { options: ["allow"], switches: ["admin", "password-stdin"] });
  const name = one(args.positional, "user name");
  const access = [
    ...(args.switches.has("admin") ? ADMIN_RULES.map(formatScope) : []),
    ...(args.options.get("allow") ?? []),
  ];
  const { password, generated } = await passwordFrom(io, args.switches.has("password-stdin"));
  await auth.admin.addUser({ name, access }, password);
  io.note(
    `created user "${name}"${access.length ? ` with ${access.join(" ")}` : " (no rights yet: add --allow rules)"}`,
  );
  if (generated) io.out(password);
};

const userPasswd: Command = async (auth, argv, io) => {
  const args = parseArgs(argv, { switches: ["password-stdin"] });
  const name = one(args.positional, "user name");
  const { password, generated } = await passwordFrom(io, args.switches.has("password-stdin"));
  await auth.admin.setPassword(name, password);
  io.note(`changed the password of "${name}" and revoked its refresh tokens`);
  if (generated) io.out(password);
};

const userLogout: Command = async (auth, argv, io) => {
  const name = one(parseArgs(argv, {}).positional, "user name");
  io.note(`revoked ${await auth.admin.logout(name)} refresh token(s) of "${name}"`);
};

const remove =
  (kind: "user" | "token"): Command =>
  async (auth, argv, io) => {
    const name = one(parseArgs(argv, {}).positional, `${kind} name`);
    await auth.admin.remove(name, kind);
    io.note(`removed ${kind} "${name}" (access tokens already issued expire within their lifetime)`);
  };

const list =
  (kind: "user" | "token"): Command =>
  async (auth, argv, io) => {
    parseArgs(argv, {});
    const rows = (await auth.admin.list(kind)).map(describe);
    if (rows.length === 0) io.note(`no ${kind}s`);
    rows.forEach((row) => io.out(row));
  };

function describe(record: IdentityRecord): string {
  const expires = record.expiresAt ? ` expires=${record.expiresAt}` : "";
  return `${record.name}\tcreated=${record.createdAt}${expires}\t${record.access.join(" ") || "(no rights)"}`;
}

const tokenCreate: Command = async (auth, argv, io) => {
  const args = parseArgs(argv, { options: ["allow", "expires"] });
  const name = one(args.positional, "token name");
  const access = args.options.get("allow") ?? [];
  if (access.length === 0) throw new UsageError("a token needs at least one --allow rule (e.g. --allow 'team/*:pull')");
  const expiresAt = parseExpiry(args.options.get("expires")?.at(-1) ?? "90d");
  const secret = await auth.admin.createToken({ name, access, ...(expiresAt ? { expiresAt } : {}) });
  io.note(
    `created token "${name}" with ${access.join(" ")}, ${expiresAt ? `expires ${expiresAt.toISOString()}` : "never expires"}`,
  );
  io.note(`log in with: docker login -u ${name} --password-stdin <registry>   (the secret is shown this once)`);
  io.out(secret);
};

const keysRotate: Command = async (auth, argv, io) => {
  parseArgs(argv, {});
  const { keys, where } = await auth.keys();
  const kid = await keys.rotate();
  io.note(`new signing key ${kid} in ${where}; the previous key verifies until its tokens expire`);
  io.out(kid);
};

const gcUploads: Command = async (context, argv, io) => {
  const args = parseArgs(argv, { options: [], switches: ["dry-run"] });
  if (args.positional.length > 0) throw new UsageError("gc uploads takes no arguments");
  const dryRun = args.switches.has("dry-run");
  const expired = await (await context.registry()).uploads.purgeExpired(dryRun);
  for (const s of expired) io.out(`${s.repository}\t${s.id}\tstarted ${s.startedAt}\t${s.offset} bytes`);
  io.note(`${expired.length} abandoned upload(s) ${dryRun ? "would be purged (dry run)" : "purged"}`);
};

export const COMMANDS: Record<string, Command> = {
  "user add": userAdd,
  "user list": list("user"),
  "user passwd": userPasswd,
  "user logout": userLogout,
  "user remove": remove("user"),
  "token create": tokenCreate,
  "token list": list("token"),
  "token revoke": remove("token"),
  "keys rotate": keysRotate,
  "gc uploads": gcUploads,
};
