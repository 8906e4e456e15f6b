import { IdentityAdmin, IdentityError } from "../auth/identity-admin.js";
import { createSecretProvider, secretNames } from "../auth/secrets/create-secret-provider.js";
import { SigningKeys } from "../auth/signing-keys.js";
import { ScopeError } from "../auth/scopes.js";
import { ConfigError, loadConfig, type Config } from "../config.js";
import { createRegistryService } from "../create-registry.js";
import { createAzureAuthStorage } from "../storage/azure/azure-identity-store.js";
import { UsageError } from "./args.js";
import { COMMANDS, USAGE, type CliContext, type Io } from "./commands.js";
import { openStorage } from "./storage.js";
import { WEBHOOK_COMMANDS } from "./webhook-commands.js";
import { createWebhooks } from "../webhooks/create-webhooks.js";
import { SubscriptionError } from "../webhooks/subscription.js";

/**
 * `npm run cli -- <command>`: users, access tokens and signing keys, managed straight in
 * storage with the same configuration (environment) as the server.
 */
async function main(argv: string[]): Promise<number> {
  const key = argv.slice(0, 2).join(" ");
  const command = { ...COMMANDS, ...WEBHOOK_COMMANDS }[key];
  if (!command) {
    console.error(
      argv.length === 0 || argv[0] === "help" || argv[0] === "--help" ? USAGE : `unknown command "${key}"\n${USAGE}`,
    );
    return argv.length === 0 ? 0 : 2;
  }
  const config = loadConfig();
  const storage = await openStorage(config);
  try {
    await command(await context(config, storage.connectionString), argv.slice(2), io);
    return 0;
  } finally {
    await storage.close();
  }
}

async function context(config: Config, connectionString: string): Promise<CliContext> {
  const storage = await createAzureAuthStorage({ connectionString, tablePrefix: config.tablePrefix });
  return {
    admin: new IdentityAdmin(storage),
    keys: async () => {
      const secrets = await createSecretProvider(config.auth);
      const options = { secretName: secretNames(config.auth).signingKey, tokenTtlSeconds: config.auth.tokenTtlSeconds };
      return { keys: new SigningKeys(secrets, options), where: secrets.description };
    },
    webhooks: () => createWebhooks(config, connectionString, (line) => console.error(line)),
    registry: () => createRegistryService(config, connectionString),
  };
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
    const expected = [UsageError, IdentityError, ScopeError, ConfigError, SubscriptionError].some(
      (type) => error instanceof type,
    );
    console.error(expected ? `error: ${(error as Error).message}` : error);
    if (error instanceof UsageError) console.error(USAGE);
    process.exit(1);
  },
);
