/**
 * A small argv parser for the admin CLI: positional words, `--flag value` options (repeatable)
 * and boolean switches. Unknown options are errors, so a typo never silently changes a grant.
 */
export interface ParsedArgs {
  positional: string[];
  options: Map<string, string[]>;
  switches: Set<string>;
}

export class UsageError extends Error {
  override name = "UsageError";
}

export function parseArgs(argv: string[], spec: { options?: string[]; switches?: string[] }): ParsedArgs {
  const parsed: ParsedArgs = { positional: [], options: new Map(), switches: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith("--")) {
      parsed.positional.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split(/=(.*)/s) as [string, string | undefined];
    if (spec.switches?.includes(name) && inline === undefined) {
      parsed.switches.add(name);
    } else if (spec.options?.includes(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      parsed.options.set(name, [...(parsed.options.get(name) ?? []), value]);
    } else {
      throw new UsageError(`unknown option --${name}`);
    }
  }
  return parsed;
}

/** `90d`, `12h`, `30m` from now, an ISO date, or `never`. */
export function parseExpiry(text: string, now = Date.now()): Date | undefined {
  if (text === "never") return undefined;
  const relative = /^(\d+)([dhm])$/.exec(text);
  if (relative) {
    const unit = { d: 86_400_000, h: 3_600_000, m: 60_000 }[relative[2] as "d" | "h" | "m"];
    return new Date(now + Number(relative[1]) * unit);
  }
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) throw new UsageError(`--expires: "${text}" is not 90d, 12h, 30m, a date, or never`);
  if (date.getTime() <= now) throw new UsageError("--expires is in the past");
  return date;
}
