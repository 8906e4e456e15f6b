import { accessLog } from "../http/access-log.js";
import type { RequestObserver } from "../http/fetch-handler.js";
import type { RequestEndObserver } from "../http/observed-requests.js";
import type { MetricsExposure } from "../http/ops-app.js";
import { logWriter, type LogWriter } from "../lib/log-writer.js";
import { currentRequest, noteRequest } from "../lib/request-scope.js";
import { auditLog, type AuditLog } from "../observability/audit-log.js";
import type { Metrics } from "../observability/metrics.js";
import type { StorageCallObserver } from "../storage/azure/storage-call-policy.js";
import type { Config } from "./config.js";

/** Logs, audit trail and metrics of one process, as the composition root applies them. */
export interface Observability {
  write: LogWriter;
  /** Undefined when STOWAGE_METRICS=off (prom-client is then never loaded). */
  metrics: Metrics | undefined;
  audit: AuditLog | undefined;
  /** Every storage call: metrics, and an error line (with the request id) for a failed one. */
  storageCalls: StorageCallObserver;
  /** What each app's `answering` reports: the failure, for the access log of a server error. */
  appObserver: RequestObserver;
  /** The access log and request metrics, once each response is sent. */
  requestObservers: RequestEndObserver[];
  exposure: MetricsExposure | undefined;
}

export interface ObservabilityOptions {
  /** Where structured lines go (default: the console, in STOWAGE_LOG_FORMAT). */
  logs?: LogWriter | undefined;
  /** Log every request (the Node server, per STOWAGE_ACCESS_LOG); otherwise only server errors. */
  accessLog?: boolean | undefined;
  /** Another observer of every answered request (tests). */
  observe?: RequestObserver | undefined;
}

export async function buildObservability(config: Config, options: ObservabilityOptions): Promise<Observability> {
  const settings = config.observability;
  const write = options.logs ?? logWriter(settings.logFormat);
  // loaded only when on: prom-client is not part of the cold start otherwise
  const metrics =
    settings.metrics === "off"
      ? undefined
      : (await import("../observability/prometheus-metrics.js")).prometheusMetrics();
  const requestObservers: RequestEndObserver[] = [
    accessLog(write, { all: options.accessLog ?? false, probes: settings.accessLogProbes }),
  ];
  if (metrics) requestObservers.push((record) => metrics.request(record));
  return {
    write,
    metrics,
    audit: settings.audit ? auditLog(write) : undefined,
    storageCalls(call, error) {
      metrics?.storageCall(call);
      if (call.outcome === "5xx" || call.outcome === "error") {
        const { service, operation, status } = call;
        const requestId = currentRequest()?.id;
        write({ level: "error", msg: "storage call failed", service, operation, status, requestId, error });
      }
    },
    appObserver(request, response, error) {
      if (error !== undefined) noteRequest({ failure: error });
      options.observe?.(request, response, error);
    },
    requestObservers,
    exposure: metrics && {
      render: () => metrics.render(),
      contentType: metrics.contentType,
      access: settings.metrics === "token" ? "token" : "loopback",
      token: settings.metricsToken,
    },
  };
}
