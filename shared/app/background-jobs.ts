import { describeGc } from "../registry/gc-report.js";
import { SUBSCRIPTIONS_MAX_AGE_MS } from "../webhooks/event-interest.js";
import { startPoller, type Poller } from "../webhooks/queue-poller.js";
import { whenSubscribed } from "../webhooks/subscription-watch.js";
import type { App } from "./build-app.js";

/** Seconds a message stays leased to this process; renewed while handled, so it only bounds recovery after a crash. */
const LEASE_SECONDS = 10;
/** After this many failed handlings a message is parked in `<queue>-poison` (the Functions host's default is 5). */
const MAX_DEQUEUE_COUNT = 5;

export interface BackgroundJobs {
  /** Stops taking work and waits for what is in hand (a delivery in flight finishes or comes back later). */
  stop(): Promise<void>;
}

/**
 * What the Functions app's queue and timer triggers do, run by the Node server itself:
 * webhook delivery from in-process pollers (one on the event queue for the fan-out, one on
 * the delivery queue; started once a subscription exists), and garbage collection every STOWAGE_GC_INTERVAL_SECONDS (one process
 * at a time: the run takes a lease, and a process that finds it taken skips its turn).
 */
export function startBackgroundJobs(
  app: App,
  log: (line: string) => void,
  options: { subscriptionCheckMs?: number } = {},
): BackgroundJobs {
  const { config, webhooks, registry } = app;
  const pollers: Poller[] = [];
  // a stopped watch never calls this, so no poller starts after stop()
  const startDelivery = () => {
    const pollerOptions = {
      idleMs: config.webhooks.pollMs,
      leaseSeconds: LEASE_SECONDS,
      maxDequeueCount: MAX_DEQUEUE_COUNT,
      log,
    };
    pollers.push(
      startPoller(webhooks.events, (text) => webhooks.service.fanOut(text), { ...pollerOptions, concurrency: 4 }),
      startPoller(webhooks.deliveries, (text) => webhooks.service.deliver(text), {
        ...pollerOptions,
        concurrency: config.webhooks.concurrency,
      }),
    );
  };
  // the queues are polled only once a subscription exists: until then nothing is queued
  const watch = config.webhooks.deliver
    ? whenSubscribed(() => webhooks.directory.list(), {
        intervalMs: options.subscriptionCheckMs ?? SUBSCRIPTIONS_MAX_AGE_MS,
        found: startDelivery,
      })
    : undefined;
  const failed = (error: unknown) => log(`garbage collection failed (will retry): ${(error as Error).message}`);
  const purge = () =>
    config.gc.sweep
      ? app.lifecycle.collectGarbage().then((report) => describeGc(report).forEach((line) => log(line)), failed)
      : registry.uploads
          .purgeExpired()
          .then(
            (purged) => purged.length > 0 && log(`garbage collection: ${purged.length} abandoned upload(s) purged`),
            failed,
          );
  const timer = setInterval(purge, config.gc.intervalMs).unref();
  return {
    async stop() {
      watch?.stop();
      clearInterval(timer);
      await Promise.all(pollers.map((poller) => poller.stop()));
    },
  };
}
