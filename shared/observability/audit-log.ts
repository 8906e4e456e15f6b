import { userInfo } from "node:os";
import type { LogWriter } from "../lib/log-writer.js";
import { currentRequest } from "../lib/request-scope.js";

/**
 * A security-relevant event: a login, a change of users, tokens or webhooks, a push, a delete.
 * Names and addresses, never a secret.
 */
export interface AuditEvent {
  /** `login`, `user.add`, `token.create`, `manifest.push`, `webhook.remove`... */
  event: string;
  outcome: "success" | "failure";
  /** Who did it (a user or token name; the operating-system user for the CLI). */
  actor?: string | undefined;
  /** From where (default: the current request's client address). */
  address?: string | undefined;
  /** Why it failed (a code, never a message that could quote input). */
  reason?: string;
  /** What it was done to: names, repository, digest, tag. */
  target?: Record<string, string | number | undefined>;
}

export type AuditLog = (event: AuditEvent) => void;

/** The marker a site's log forwarder selects audit lines by: `"audit": true`. */
export const AUDIT_MARKER = "audit";

/** Audit events as log lines (`"audit": true`, the request id when there is a request). */
export function auditLog(write: LogWriter): AuditLog {
  return ({ event, outcome, actor, address, reason, target }) => {
    const request = currentRequest();
    write({
      level: outcome === "failure" ? "warn" : "info",
      msg: `audit ${event} ${outcome}`,
      [AUDIT_MARKER]: true,
      event,
      outcome,
      actor: actor ?? request?.principal ?? (request ? undefined : localUser()),
      address: address ?? request?.clientAddress,
      requestId: request?.id,
      ...(reason ? { reason } : {}),
      ...(target ? { target } : {}),
    });
  };
}

/** The CLI's actor: whoever runs it on this machine. */
function localUser(): string {
  try {
    return `local:${userInfo().username}`;
  } catch {
    return "local";
  }
}
