import { buildApp } from "../app/build-app.js";
import { ConfigError, loadConfig } from "../app/config.js";
import { IdentityError } from "../auth/identity-admin.js";
import { RegistryError } from "../registry/errors.js";
import { ScopeError } from "../auth/scopes.js";
import { SubscriptionError } from "../webhooks/subscription.js";
import { UsageError } from "./args.js";
import type { Command, Io } from "./command.js";
import { GC_COMMANDS, GC_USAGE } from "./gc-commands.js";
import { LIFECYCLE_COMMANDS, LIFECYCLE_USAGE } from "./lifecycle-commands.js";
import { IDENTITY_COMMANDS, IDENTITY_USAGE } from "./identity-commands.js";
import { openStorage } from "./storage.js";
import { WEBHOOK_COMMANDS, WEBHOOK_USAGE } from "./webhook-commands.js";

const USAGE = `usage: npm run cli -- <command>
${IDENTITY_USAGE}
${GC_USAGE}
${LIFECYCLE_USAGE}
${WEBHOOK_USAGE}
RULE: team/*:pull  team/app:pull,push,delete  *:*  catalog  (or a full scope, repository:x:pull)
Without --password-stdin a password is generated; generated passwords and token secrets are
printed once, on standard output.`;

const COMMANDS: Record<string, Command> = {
  ...IDENTITY_COMMANDS,
  ...GC_COMMANDS,
  ...LIFECYCLE_COMMANDS,
  ...WEBHOOK_COMMANDS,
};

/**
 * `npm run cli -- <command>`: users, access tokens, signing keys, webhooks and clean-up,
 * managed straight in storage with the same configuration (environment) as the server.
 */
async function main(argv: string[]): Promise<number> {
  // two-word commands (`gc uploads`) first, then one-word ones (`gc`, `usage`)
  const words = COMMANDS[argv.slice(0, 2).join(" ")] ? 2 : 1;
  const key = argv.slice(0, words).join(" ");
  const command = COMMANDS[key];
  if (!command) {
    console.error(
      argv.length === 0 || argv[0] === "help" || argv[0] === "--help" ? USAGE : `unknown command "${key}"\n${USAGE}`,
    );
    return argv.length === 0 ? 0 : 2;
  }
  const config = loadConfig();
  const storage = await openStorage(config);
  try {
    const app = await buildApp(config, {
      connectionString: storage.connectionString,
      log: (line) => console.error(line),
      // standard output carries only what a command prints (a generated secret): audit lines go to stderr
      logs: (record) => console.error(JSON.stringify({ time: new Date().toISOString(), ...record })),
    });
    await command(app, argv.slice(words), io);
    return 0;
  } finally {
    await storage.close();
  }
}

const io: Io = {
  out: (line) => console.log(line),
  note: (line) => console.error(line),
  readStdin: async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
  },
};

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    const expected = [UsageError, IdentityError, ScopeError, ConfigError, SubscriptionError, RegistryError].some(
      (type) => error instanceof type,
    );
    console.error(expected ? `error: ${(error as Error).message}` : error);
    if (error instanceof UsageError) console.error(USAGE);
    process.exit(1);
  },
);
