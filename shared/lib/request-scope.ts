import { AsyncLocalStorage } from "node:async_hooks";

/**
 * What is known about the request being served, for the parts that observe it without being
 * handed it: the access log and metrics (route, principal, failure), webhook events and
 * storage-call error logs (the request id). Filled in as the request is routed and authorized.
 */
export interface RequestScope {
  /** This request's id (from a trusted proxy's `X-Request-Id`, or generated). */
  readonly id: string;
  /** The client's address (behind a trusted proxy: the one it reported). */
  readonly clientAddress?: string | undefined;
  /** The route template that matched (`/v2/{name}/manifests/{reference}`), never the path itself. */
  route?: string;
  /** Who the request was authorized as. */
  principal?: string;
  /** What made the answer an error, for the log of a server error. */
  failure?: unknown;
}

const scopes = new AsyncLocalStorage<RequestScope>();

/** Runs `work` with `scope` as the current request (for everything it awaits, storage calls included). */
export function inRequestScope<T>(scope: RequestScope, work: () => T): T {
  return scopes.run(scope, work);
}

/** The request being served, if any (undefined in background work and the CLI). */
export function currentRequest(): RequestScope | undefined {
  return scopes.getStore();
}

/** Records facts about the current request (a no-op outside one). */
export function noteRequest(facts: Partial<Omit<RequestScope, "id">>): void {
  const scope = scopes.getStore();
  if (scope) Object.assign(scope, facts);
}
