import { generateSecret } from "../auth/passwords.js";
import { describeSubscription, parseSubscription } from "../webhooks/subscription.js";
import type { DeadLetter } from "../webhooks/dead-letters.js";
import { parseArgs, UsageError } from "./args.js";
import { one, type Command } from "./command.js";

export const WEBHOOK_USAGE = `  webhook add NAME --url URL [--action push|delete|pull|mount]... [--repository PATTERN]...
              [--header 'Name: value']... [--format distribution|acr|cloudevents] [--timeout-ms N]
              [--secret-stdin | --unsigned]     (default: a generated signing secret, printed once)
  webhook list
  webhook remove NAME
  webhook test NAME                        (POSTs a ping event now, prints the endpoint's answer)
  webhook failures [--subscription NAME]   (the dead-letter store)
  webhook replay ID... | --all [--subscription NAME]   (queues them again, with fresh retries)`;

const DEAD_LETTER_ID = /^[0-9a-z]{9}-[0-9a-f]{8}$/;

function parseHeaders(values: string[]): Record<string, string> | undefined {
  if (values.length === 0) return undefined;
  return Object.fromEntries(
    values.map((value) => {
      const match = /^([^:]+):\s*(.*)$/s.exec(value);
      if (!match) throw new UsageError(`--header "${value.split(":")[0]}": expected 'Name: value'`);
      return [(match[1] as string).trim(), match[2] as string];
    }),
  );
}

const add: Command = async (app, argv, io) => {
  const args = parseArgs(argv, {
    options: ["url", "action", "repository", "header", "format", "timeout-ms"],
    switches: ["secret-stdin", "unsigned"],
  });
  const name = one(args.positional, "subscription name");
  const last = (option: string) => args.options.get(option)?.at(-1);
  if (args.switches.has("secret-stdin") && args.switches.has("unsigned"))
    throw new UsageError("--secret-stdin and --unsigned exclude each other");
  const generated = !args.switches.has("secret-stdin") && !args.switches.has("unsigned");
  const secret = args.switches.has("secret-stdin")
    ? (await io.readStdin()).replace(/\r?\n$/, "")
    : generated
      ? generateSecret(32)
      : undefined;
  const timeout = last("timeout-ms");
  const subscription = parseSubscription({
    name,
    url: last("url"),
    ...(secret !== undefined ? { secret } : {}),
    ...(args.options.has("action") ? { actions: args.options.get("action") } : {}),
    ...(args.options.has("repository") ? { repositories: args.options.get("repository") } : {}),
    ...(args.options.has("header") ? { headers: parseHeaders(args.options.get("header") ?? []) } : {}),
    ...(last("format") !== undefined ? { format: last("format") } : {}),
    ...(timeout !== undefined ? { timeoutMs: Number(timeout) } : {}),
  });
  await app.webhooks.directory.add(subscription);
  io.note(`added webhook ${describeSubscription(subscription, "storage")}`);
  if (generated) {
    io.note("its signing secret follows, shown this once (verify the Stowage-Signature header with it)");
    io.out(secret as string);
  }
};

const list: Command = async (app, argv, io) => {
  parseArgs(argv, {});
  const all = await app.webhooks.directory.list();
  if (all.length === 0) io.note("no webhooks");
  all.forEach(({ subscription, origin }) => io.out(describeSubscription(subscription, origin)));
};

const remove: Command = async (app, argv, io) => {
  const name = one(parseArgs(argv, {}).positional, "subscription name");
  await app.webhooks.directory.remove(name);
  io.note(`removed webhook "${name}" (its queued deliveries are dropped, its dead letters kept)`);
};

const test: Command = async (app, argv, io) => {
  const name = one(parseArgs(argv, {}).positional, "subscription name");
  const result = await app.webhooks.service.ping(name);
  io.out(`${name}: ${result.outcome}`);
  if (!result.ok) throw new UsageError(`the endpoint did not accept the ping (${result.outcome})`);
};

function describeLetter(letter: DeadLetter): string {
  const { action, target } = letter.event;
  const what = `${action} ${target.repository}${target.tag ? `:${target.tag}` : ""}${target.digest ? `@${target.digest}` : ""}`;
  return [
    letter.id,
    letter.subscription,
    what,
    `event=${letter.event.id}`,
    `attempts=${letter.attempts}`,
    letter.lastOutcome,
    letter.failedAt,
  ].join("\t");
}

const failures: Command = async (app, argv, io) => {
  const args = parseArgs(argv, { options: ["subscription"] });
  if (args.positional.length > 0) throw new UsageError("unexpected arguments");
  const letters = await app.webhooks.deadLetters.list(args.options.get("subscription")?.at(-1));
  if (letters.length === 0) io.note("no failed deliveries");
  letters.forEach((letter) => io.out(describeLetter(letter)));
};

const replay: Command = async (app, argv, io) => {
  const args = parseArgs(argv, { options: ["subscription"], switches: ["all"] });
  const webhooks = app.webhooks;
  const subscription = args.options.get("subscription")?.at(-1);
  if (args.switches.has("all") === args.positional.length > 0)
    throw new UsageError("give dead-letter ids (from `webhook failures`) or --all");
  if (subscription && !args.switches.has("all")) throw new UsageError("--subscription goes with --all");
  const invalid = args.positional.find((id) => !DEAD_LETTER_ID.test(id));
  if (invalid !== undefined) throw new UsageError(`"${invalid}" is not a dead-letter id`);
  const ids = args.switches.has("all")
    ? (await webhooks.deadLetters.list(subscription)).map((letter) => letter.id)
    : args.positional;
  for (const id of ids) {
    const letter = await webhooks.service.replay(id);
    io.out(`${id}\t${letter.subscription}\tqueued again`);
  }
  io.note(`${ids.length} deliver${ids.length === 1 ? "y" : "ies"} queued; the server or Functions app delivers them`);
};

export const WEBHOOK_COMMANDS: Record<string, Command> = {
  "webhook add": add,
  "webhook list": list,
  "webhook remove": remove,
  "webhook test": test,
  "webhook failures": failures,
  "webhook replay": replay,
};
