/** What the request metrics record of one answered request (the request log records more). */
export interface RequestMeasure {
  method: string;
  /** The route template, `unmatched` for paths no route serves. */
  route: string;
  status: number;
  /** From arrival to the last byte of the response body. */
  seconds: number;
  bytesIn: number;
  bytesOut: number;
}

/**
 * What Stowage counts, in its own words; the Prometheus implementation (prometheus-metrics.ts)
 * is loaded only when metrics are on. Every label value is one of a small fixed set (route
 * templates, methods, status classes, reasons, outcomes): never a repository, digest or user.
 */
export interface Metrics {
  /** Prometheus text exposition of everything below, plus the process's own metrics. */
  render(): Promise<string>;
  readonly contentType: string;
  request(record: RequestMeasure): void;
  storageCall(call: { service: string; operation: string; outcome: string; seconds: number }): void;
  /** An access token issued, by grant (`password`, `refresh_token`, `anonymous`). */
  tokenIssued(grant: string): void;
  /** A token request refused, by reason (`invalid_credentials`, `throttled`...). */
  loginFailed(reason: string): void;
  uploadStarted(): void;
  uploadCompleted(): void;
  uploadFailed(reason: string): void;
  /** An upload request (PATCH, PUT, monolithic POST) began (+1) or ended (-1). */
  uploadsInProgress(delta: 1 | -1): void;
  webhookEventQueued(action: string): void;
  /** A delivery attempt's outcome (`delivered`, `retry`, `dead_letter`, `dropped`, `error`). */
  webhookDelivery(outcome: string): void;
  /** How long a message waited in a webhook queue (`events`, `deliveries`) before it was taken. */
  webhookQueueAge(queue: string, seconds: number): void;
  /** A garbage-collection job ran (`uploads`, and whatever later jobs call it), by outcome. */
  gcRun(job: string, outcome: "ok" | "failed"): void;
  /** Items a garbage-collection job removed, by category (`upload`, ...): the hook later jobs feed. */
  gcItems(category: string, count: number): void;
}

/** Label values from callers pass through this: anything unexpected becomes `other`. */
export function boundedLabel(value: string): string {
  return /^[A-Za-z0-9_.:/{} -]{1,64}$/.test(value) ? value : "other";
}

const METHODS = new Set(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]);

export function methodLabel(method: string): string {
  return METHODS.has(method) ? method : "OTHER";
}

export function statusClass(status: number): string {
  return status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : "other";
}
