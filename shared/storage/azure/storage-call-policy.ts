import type { TableClient } from "@azure/data-tables";
import { performance } from "node:perf_hooks";

/** An Azure SDK (core-rest-pipeline) policy, named through a client that exposes the type. */
export type PipelinePolicy = Parameters<TableClient["pipeline"]["addPolicy"]>[0];

export type PipelinePolicyOptions = Parameters<TableClient["pipeline"]["addPolicy"]>[1];

export type StorageService = "blob" | "table" | "queue";

/** One storage call as the SDK made it (retries included), by service and operation. */
export interface StorageCall {
  service: StorageService;
  /** `GET blob`, `PUT block`, `POST batch`, `GET entity`...: a small fixed set, never a name. */
  operation: string;
  /** Status class (`2xx`, `4xx`...), `aborted` (the caller gave up: a client gone), or `error` (no answer). */
  outcome: string;
  status: number | undefined;
  seconds: number;
}

export type StorageCallObserver = (call: StorageCall, error?: unknown) => void;

/**
 * Reports every storage call, with its latency and outcome, to `observe` (metrics, error logs).
 * Added once per pipeline, outside the retry phase, so a call retried twice is one call.
 */
export function storageCallPolicy(service: StorageService, observe: StorageCallObserver): PipelinePolicy {
  return {
    name: `stowageStorageCalls-${service}`,
    async sendRequest(request, next) {
      const started = performance.now();
      const operation = operationOf(service, request.method, request.url);
      const report = (status: number | undefined, error?: unknown) =>
        observe(
          {
            service,
            operation,
            outcome:
              status !== undefined
                ? `${Math.floor(status / 100)}xx`
                : (error as Error | undefined)?.name === "AbortError"
                  ? "aborted"
                  : "error",
            status,
            seconds: (performance.now() - started) / 1000,
          },
          error,
        );
      try {
        const response = await next(request);
        report(response.status);
        return response;
      } catch (error) {
        const status = (error as { statusCode?: unknown }).statusCode;
        report(typeof status === "number" ? status : undefined, error);
        throw error;
      }
    },
  };
}

/**
 * Adds a policy to an SDK client's pipeline. Tables expose theirs; the blob and queue clients
 * keep it in their (protected) service client context, shared by every client derived from
 * them (a container's blob clients), so one addition covers them all.
 */
export function addPipelinePolicy(client: object, policy: PipelinePolicy, options?: PipelinePolicyOptions): void {
  pipelineOf(client).addPolicy(policy, options);
}

/**
 * Pipeline policies the SDK clients run on every call that do nothing for Stowage: OpenTelemetry
 * spans (no tracer is ever registered; the policy still sanitizes the URL and builds a span per
 * call) and form-data/multipart bodies (a table batch goes out as one prepared body, and no blob
 * call sends one). A manifest read by tag is one table call, a small blob pushed about seven
 * calls, so their per-call CPU is the request's.
 */
const UNUSED_POLICIES = ["tracingPolicy", "formDataPolicy", "multipartPolicy"];

/** Removes UNUSED_POLICIES from a client's pipeline (for blob clients: the one all of a container's share). */
export function removeUnusedPolicies(client: object): void {
  const pipeline = pipelineOf(client);
  for (const name of UNUSED_POLICIES) pipeline.removePolicy({ name });
}

function pipelineOf(client: object): TableClient["pipeline"] {
  const holder = client as { pipeline?: unknown; storageClientContext?: { pipeline?: unknown } };
  const pipeline = (holder.storageClientContext?.pipeline ?? holder.pipeline) as TableClient["pipeline"] | undefined;
  if (typeof pipeline?.addPolicy !== "function") throw new Error("this storage client has no pipeline to observe");
  return pipeline;
}

const WORD = /^[a-z]{1,24}$/;

/** A storage operation from the request's shape: method plus `comp`/`restype` or the kind of path. */
export function operationOf(service: StorageService, method: string, url: string): string {
  const parsed = new URL(url);
  const comp = parsed.searchParams.get("comp");
  if (comp !== null) return `${method} ${WORD.test(comp) ? comp : "other"}`;
  const last = parsed.pathname.split("/").pop() ?? "";
  switch (service) {
    case "blob":
      return `${method} ${parsed.searchParams.get("restype") === "container" ? "container" : "blob"}`;
    case "table":
      if (last === "$batch") return `${method} batch`;
      if (last === "Tables" || last.startsWith("Tables(")) return `${method} table`;
      return `${method} ${last.includes("(") ? "entity" : "query"}`;
    case "queue":
      if (last === "messages") return `${method} messages`;
      return `${method} ${parsed.pathname.includes("/messages/") ? "message" : "queue"}`;
  }
}
