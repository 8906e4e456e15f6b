import { AuthenticationError } from "../auth/authentication-error.js";
import type { IdentityAdmin, NewIdentity } from "../auth/identity-admin.js";
import type { TokenService } from "../auth/token-service.js";
import { decorate } from "../lib/decorate.js";
import { RegistryError } from "../registry/errors.js";
import type { AuditLog } from "./audit-log.js";
import type { Metrics } from "./metrics.js";

export interface Sinks {
  metrics?: Metrics | undefined;
  audit?: AuditLog | undefined;
}

/**
 * The token server, observed: tokens issued by grant and refusals by reason (metrics, never
 * by name), password logins and every refusal in the audit trail (name and address).
 * Refresh-token grants that succeed are routine (each pull after `docker login`): counted only.
 */
export function observedTokens(tokens: TokenService, { metrics, audit }: Sinks): TokenService {
  return decorate(tokens, {
    grant: (original) => async (request) => {
      const credentials = request.credentials;
      const actor = credentials.grant === "password" ? credentials.username : undefined;
      const address = credentials.grant === "password" ? credentials.clientAddress : undefined;
      try {
        const grant = await original(request);
        metrics?.tokenIssued(credentials.grant);
        if (credentials.grant === "password") audit?.({ event: "login", outcome: "success", actor, address });
        return grant;
      } catch (error) {
        const reason = refusal(error);
        metrics?.loginFailed(reason);
        // a client's first, credential-less request is how the protocol starts: not a failed login
        if (reason !== "authentication_required")
          audit?.({ event: "login", outcome: "failure", actor, address, reason });
        throw error;
      }
    },
  });
}

function refusal(error: unknown): string {
  if (error instanceof AuthenticationError) return error.reason;
  if (error instanceof RegistryError) return error.code === "TOOMANYREQUESTS" ? "throttled" : error.code.toLowerCase();
  return "error";
}

/** User and token administration (CLI and API), each change in the audit trail. */
export function auditedIdentityAdmin(admin: IdentityAdmin, audit: AuditLog): IdentityAdmin {
  const audited =
    <A extends unknown[], R>(event: string, target: (...args: A) => Record<string, string | number | undefined>) =>
    (original: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      try {
        const result = await original(...args);
        audit({ event, outcome: "success", target: target(...args) });
        return result;
      } catch (error) {
        audit({ event, outcome: "failure", target: target(...args), reason: (error as Error).name });
        throw error;
      }
    };
  return decorate(admin, {
    addUser: audited("user.add", (identity: NewIdentity, _password: string) => ({
      name: identity.name,
      access: identity.access.join(" "),
    })),
    createToken: audited("token.create", (identity) => ({
      name: identity.name,
      access: identity.access.join(" "),
      expiresAt: identity.expiresAt?.toISOString(),
    })),
    setPassword: audited("user.password", (name: string, _password: string) => ({ name })),
    remove: audited("identity.remove", (name, kind) => ({ name, kind })),
    logout: audited("user.logout", (name) => ({ name })),
  });
}
