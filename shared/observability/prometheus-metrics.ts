import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { boundedLabel, methodLabel, statusClass, type Metrics } from "./metrics.js";

const PREFIX = "stowage_";
/** From a cached manifest read to a large layer: 1 ms to 2 minutes. */
const HTTP_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 120];
const STORAGE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10];
const QUEUE_AGE_BUCKETS = [0.1, 1, 5, 15, 60, 300, 900, 3600, 21_600, 86_400];

/**
 * The metrics with prom-client, in a registry of their own (not the library's global one), so
 * several apps in one process (tests) do not collide.
 */
export function prometheusMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: PREFIX });
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Counter<L>({ name: PREFIX + name, help, labelNames, registers: [registry] });
  const histogram = <L extends string>(name: string, help: string, labelNames: readonly L[], buckets: number[]) =>
    new Histogram<L>({ name: PREFIX + name, help, labelNames, buckets, registers: [registry] });

  const requests = histogram(
    "http_request_duration_seconds",
    "HTTP requests by route template, method and status class: time to the last byte of the answer",
    ["route", "method", "status_class"],
    HTTP_BUCKETS,
  );
  const received = counter("http_received_bytes_total", "Request body bytes received, by route template", ["route"]);
  const sent = counter("http_sent_bytes_total", "Response body bytes sent, by route template", ["route"]);
  const storage = histogram(
    "storage_request_duration_seconds",
    "Azure Storage calls (retries included) by service, operation and outcome (status class or error)",
    ["service", "operation", "outcome"],
    STORAGE_BUCKETS,
  );
  const storageErrors = counter(
    "storage_errors_total",
    "Azure Storage calls that failed with a 5xx or no answer, by service and operation",
    ["service", "operation"],
  );
  const tokens = counter("tokens_issued_total", "Access tokens issued, by grant type", ["grant"]);
  const loginFailures = counter("login_failures_total", "Token requests refused, by reason", ["reason"]);
  const uploadsStarted = counter("uploads_started_total", "Blob uploads started (sessions and monolithic)");
  const uploadsCompleted = counter("uploads_completed_total", "Blob uploads completed");
  const uploadsFailed = counter("uploads_failed_total", "Blob upload completions refused, by error code", ["reason"]);
  const uploadsActive = new Gauge({
    name: `${PREFIX}uploads_in_progress`,
    help: "Upload requests (bodies being received) in progress in this process",
    registers: [registry],
  });
  const eventsQueued = counter("webhook_events_queued_total", "Registry events queued for webhooks, by action", [
    "action",
  ]);
  const deliveries = counter("webhook_deliveries_total", "Webhook delivery attempts, by outcome", ["outcome"]);
  const deadLetters = counter("webhook_dead_letters_total", "Webhook deliveries given up (dead-lettered)");
  const queueAge = histogram(
    "webhook_queue_age_seconds",
    "Age of webhook queue messages when taken, by queue",
    ["queue"],
    QUEUE_AGE_BUCKETS,
  );
  const gcRuns = counter("gc_runs_total", "Garbage-collection runs, by job and outcome", ["job", "outcome"]);
  const gcItems = counter("gc_items_total", "Items removed by garbage collection, by category", ["category"]);

  return {
    render: () => registry.metrics(),
    contentType: registry.contentType,
    request({ method, route, status, seconds, bytesIn, bytesOut }) {
      const r = boundedLabel(route);
      requests.observe({ route: r, method: methodLabel(method), status_class: statusClass(status) }, seconds);
      if (bytesIn > 0) received.inc({ route: r }, bytesIn);
      if (bytesOut > 0) sent.inc({ route: r }, bytesOut);
    },
    storageCall({ service, operation, outcome, seconds }) {
      const [s, o] = [boundedLabel(service), boundedLabel(operation)];
      // literals, not a spread: on Node 20 a literal that starts with a spread is built far slower
      storage.observe({ service: s, operation: o, outcome: boundedLabel(outcome) }, seconds);
      if (outcome === "error" || outcome === "5xx") storageErrors.inc({ service: s, operation: o });
    },
    tokenIssued: (grant) => tokens.inc({ grant: boundedLabel(grant) }),
    loginFailed: (reason) => loginFailures.inc({ reason: boundedLabel(reason) }),
    uploadStarted: () => uploadsStarted.inc(),
    uploadCompleted: () => uploadsCompleted.inc(),
    uploadFailed: (reason) => uploadsFailed.inc({ reason: boundedLabel(reason) }),
    uploadsInProgress: (delta) => uploadsActive.inc(delta),
    webhookEventQueued: (action) => eventsQueued.inc({ action: boundedLabel(action) }),
    webhookDelivery(outcome) {
      deliveries.inc({ outcome: boundedLabel(outcome) });
      if (outcome === "dead_letter") deadLetters.inc();
    },
    webhookQueueAge: (queue, seconds) => queueAge.observe({ queue: boundedLabel(queue) }, Math.max(0, seconds)),
    gcRun: (job, outcome) => gcRuns.inc({ job: boundedLabel(job), outcome }),
    gcItems: (category, count) => {
      if (count > 0) gcItems.inc({ category: boundedLabel(category) }, count);
    },
  };
}
