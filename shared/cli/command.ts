import type { App } from "../app/build-app.js";
import { UsageError } from "./args.js";

/** Where a command writes: results (secrets included) to `out`, remarks to `note`. */
export interface Io {
  out(line: string): void;
  note(line: string): void;
  /** All of standard input (for --password-stdin). */
  readStdin(): Promise<string>;
}

/** A CLI command: works on the application built from the same configuration as the server. */
export type Command = (app: App, argv: string[], io: Io) => Promise<void>;

/** The one positional argument a command takes. */
export function one(positional: string[], what: string): string {
  if (positional.length !== 1) throw new UsageError(`expected exactly one ${what}`);
  return positional[0] as string;
}
