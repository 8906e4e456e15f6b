import { createHash, timingSafeEqual } from "node:crypto";
import { answering } from "./answering.js";
import { normalizeAddress } from "./client-address.js";
import type { FetchHandler, RequestInfo, RequestObserver } from "./fetch-handler.js";
import { HttpError, methodNotAllowed } from "./http-error.js";

export const HEALTH_PATH = "/healthz";
export const READY_PATH = "/readyz";
export const METRICS_PATH = "/metrics";

/** The probes orchestrators call every few seconds (left out of the access log by default). */
export function isProbePath(path: string): boolean {
  return path === HEALTH_PATH || path === READY_PATH;
}

/** Whether a path belongs to the operator endpoints. */
export function isOpsPath(path: string): boolean {
  return isProbePath(path) || path === METRICS_PATH;
}

/** Whether the process can serve: each dependency checked (cached briefly; see readiness.ts). */
export interface Readiness {
  ready: boolean;
  checks: Record<string, "ok" | "failed" | "timeout">;
}

export interface MetricsExposure {
  /** Prometheus text exposition. */
  render(): Promise<string>;
  contentType: string;
  /** `loopback`: only to clients on this machine (not through a proxy); `token`: with the bearer token. */
  access: "loopback" | "token";
  token?: string;
}

export interface OpsAppOptions {
  readiness: () => Promise<Readiness>;
  /** Undefined: metrics are off and `/metrics` is an unknown endpoint. */
  metrics?: MetricsExposure;
  observe?: RequestObserver;
}

const NO_STORE = { "Cache-Control": "no-store" };

/**
 * The operator endpoints: `/healthz` (the process answers; no storage call), `/readyz`
 * (storage, and Key Vault when configured, answer within a short timeout: 200 or 503) and
 * `/metrics`. No registry credentials: probes come from the orchestrator, metrics are guarded
 * by their own setting.
 */
export function createOpsApp(options: OpsAppOptions): FetchHandler {
  return answering(async (request, info) => {
    const path = new URL(request.url).pathname;
    if (request.method !== "GET" && request.method !== "HEAD") throw methodNotAllowed(request.method, ["GET", "HEAD"]);
    const head = request.method === "HEAD";
    if (path === HEALTH_PATH) return json({ status: "ok" }, 200, head);
    if (path === READY_PATH) {
      const readiness = await options.readiness();
      const body = { status: readiness.ready ? "ready" : "unavailable", checks: readiness.checks };
      return json(body, readiness.ready ? 200 : 503, head);
    }
    const metrics = options.metrics;
    if (path !== METRICS_PATH || !metrics) throw new HttpError(404, "UNSUPPORTED", "no such endpoint", {}, { path });
    checkMetricsAccess(metrics, request, info);
    const text = await metrics.render();
    return new Response(head ? null : text, { headers: { "Content-Type": metrics.contentType, ...NO_STORE } });
  }, options.observe);
}

function checkMetricsAccess(metrics: MetricsExposure, request: Request, info: RequestInfo): void {
  if (metrics.access === "token") {
    const given = /^Bearer (.+)$/i.exec(request.headers.get("authorization") ?? "")?.[1];
    if (given !== undefined && metrics.token !== undefined && sameSecret(given, metrics.token)) return;
    throw new HttpError(401, "UNAUTHORIZED", "the metrics token is required", {
      "WWW-Authenticate": 'Bearer realm="metrics"',
    });
  }
  // a local reverse proxy would make every client look local: proxied requests are refused
  const address = info.clientAddress === undefined ? "" : normalizeAddress(info.clientAddress);
  const loopback = address === "::1" || address.startsWith("127.");
  if (!loopback || request.headers.has("x-forwarded-for") || request.headers.has("forwarded")) {
    throw new HttpError(403, "DENIED", "metrics are served to this machine only");
  }
}

/** Constant-time comparison of two secrets of any length (their digests are compared). */
function sameSecret(a: string, b: string): boolean {
  const digest = (s: string) => createHash("sha256").update(s).digest();
  return timingSafeEqual(digest(a), digest(b));
}

function json(body: unknown, status: number, head: boolean): Response {
  return new Response(head ? null : JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...NO_STORE },
  });
}
