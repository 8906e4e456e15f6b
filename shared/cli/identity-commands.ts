import { ADMIN_RULES } from "../auth/permissions.js";
import { formatScope } from "../auth/scopes.js";
import { generateSecret } from "../auth/passwords.js";
import type { IdentityRecord } from "../storage/ports/identity-storage.js";
import { parseArgs, parseExpiry, UsageError } from "./args.js";
import { one, type Command, type Io } from "./command.js";

export const IDENTITY_USAGE = `  user add NAME [--allow RULE]... [--admin] [--password-stdin]
  user list
  user passwd NAME [--password-stdin]      (also revokes NAME's refresh tokens)
  user logout NAME                         (revokes NAME's refresh tokens: docker logins)
  user remove NAME
  token create NAME --allow RULE... [--expires 90d|12h|30m|DATE|never]   (default 90d)
  token list
  token revoke NAME
  keys rotate`;

async function passwordFrom(io: Io, fromStdin: boolean): Promise<{ password: string; generated: boolean }> {
  if (!fromStdin) return { password: generateSecret(18), generated: true };
  const password = (await io.readStdin()).replace(/\r?\n$/, "");
  return { password, generated: false };
}

const userAdd: Command = async (app, argv, io) => {
  const args = parseArgs(argv, { options: ["allow"], switches: ["admin", "password-stdin"] });
  const name = one(args.positional, "user name");
  const access = [
    ...(args.switches.has("admin") ? ADMIN_RULES.map(formatScope) : []),
    ...(args.options.get("allow") ?? []),
  ];
  const { password, generated } = await passwordFrom(io, args.switches.has("password-stdin"));
  await app.auth.admin.addUser({ name, access }, password);
  io.note(
    `created user "${name}"${access.length ? ` with ${access.join(" ")}` : " (no rights yet: add --allow rules)"}`,
  );
  if (generated) io.out(password);
};

const userPasswd: Command = async (app, argv, io) => {
  const args = parseArgs(argv, { switches: ["password-stdin"] });
  const name = one(args.positional, "user name");
  const { password, generated } = await passwordFrom(io, args.switches.has("password-stdin"));
  await app.auth.admin.setPassword(name, password);
  io.note(`changed the password of "${name}" and revoked its refresh tokens`);
  if (generated) io.out(password);
};

const userLogout: Command = async (app, argv, io) => {
  const name = one(parseArgs(argv, {}).positional, "user name");
  io.note(`revoked ${await app.auth.admin.logout(name)} refresh token(s) of "${name}"`);
};

const remove =
  (kind: "user" | "token"): Command =>
  async (app, argv, io) => {
    const name = one(parseArgs(argv, {}).positional, `${kind} name`);
    await app.auth.admin.remove(name, kind);
    io.note(`removed ${kind} "${name}" (access tokens already issued expire within their lifetime)`);
  };

const list =
  (kind: "user" | "token"): Command =>
  async (app, argv, io) => {
    parseArgs(argv, {});
    const rows = (await app.auth.admin.list(kind)).map(describe);
    if (rows.length === 0) io.note(`no ${kind}s`);
    rows.forEach((row) => io.out(row));
  };

function describe(record: IdentityRecord): string {
  const expires = record.expiresAt ? ` expires=${record.expiresAt}` : "";
  return `${record.name}\tcreated=${record.createdAt}${expires}\t${record.access.join(" ") || "(no rights)"}`;
}

const tokenCreate: Command = async (app, argv, io) => {
  const args = parseArgs(argv, { options: ["allow", "expires"] });
  const name = one(args.positional, "token name");
  const access = args.options.get("allow") ?? [];
  if (access.length === 0) throw new UsageError("a token needs at least one --allow rule (e.g. --allow 'team/*:pull')");
  const expiresAt = parseExpiry(args.options.get("expires")?.at(-1) ?? "90d");
  const secret = await app.auth.admin.createToken({ name, access, ...(expiresAt ? { expiresAt } : {}) });
  io.note(
    `created token "${name}" with ${access.join(" ")}, ${expiresAt ? `expires ${expiresAt.toISOString()}` : "never expires"}`,
  );
  io.note(`log in with: docker login -u ${name} --password-stdin <registry>   (the secret is shown this once)`);
  io.out(secret);
};

const keysRotate: Command = async (app, argv, io) => {
  parseArgs(argv, {});
  const kid = await app.auth.keys.rotate();
  io.note(
    `new signing key ${kid} in ${app.auth.secrets.description}; the previous key verifies until its tokens expire`,
  );
  io.out(kid);
};

export const IDENTITY_COMMANDS: Record<string, Command> = {
  "user add": userAdd,
  "user list": list("user"),
  "user passwd": userPasswd,
  "user logout": userLogout,
  "user remove": remove("user"),
  "token create": tokenCreate,
  "token list": list("token"),
  "token revoke": remove("token"),
  "keys rotate": keysRotate,
};
