export type LogLevel = "debug" | "info" | "warn" | "error";

/** One structured log line: a level, a message, and flat fields (never secrets or header values). */
export interface LogRecord {
  level: LogLevel;
  msg: string;
  [field: string]: unknown;
}

export type LogWriter = (record: LogRecord) => void;

/** `json`: one JSON object per line (for collectors); `text`: for people; `auto`: text on a terminal. */
export type LogFormat = "json" | "text" | "auto";

/**
 * Writes log records to the console (which the Functions host and container runtimes collect),
 * errors to stderr. `time` comes first so lines sort and read well.
 */
export function logWriter(format: LogFormat, isTerminal = Boolean(process.stdout.isTTY)): LogWriter {
  const text = format === "text" || (format === "auto" && isTerminal);
  return (record) => {
    const line = text ? asText(record) : asJson(record);
    if (record.level === "error") console.error(line);
    else console.log(line);
  };
}

function asText({ level, msg, ...fields }: LogRecord): string {
  const rest = Object.entries(fields)
    .filter(([, value]) => value !== undefined && value !== "")
    .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value, plain)}`);
  return [new Date().toISOString(), level.toUpperCase().padEnd(5), msg, ...rest].join(" ");
}

function asJson(record: LogRecord): string {
  // the replacer costs a call per value: only a record holding objects (an error) can need it
  return JSON.stringify({ time: new Date().toISOString(), ...record }, holdsObjects(record) ? plain : undefined);
}

function holdsObjects(record: LogRecord): boolean {
  for (const key in record) {
    const value = record[key];
    if (typeof value === "object" && value !== null) return true;
  }
  return false;
}

/** Errors as their name and message (not their enumerable fields, which may hold a request). */
function plain(_key: string, value: unknown): unknown {
  return value instanceof Error ? `${value.name}: ${value.message}` : value;
}
