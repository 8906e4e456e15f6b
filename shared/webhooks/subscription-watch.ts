/**
 * Calls `found` once some subscription exists, looking every `intervalMs` until then. No event
 * is queued while none does (event-interest.ts), so an instance of a registry without webhooks
 * need not poll its queues (two storage calls a second, and the queue client loaded for them);
 * a subscription added later is found within `intervalMs`, about when events for it start to be
 * queued. A list that cannot be read counts as found: the pollers run, as without this.
 */
export function whenSubscribed(
  list: () => Promise<readonly unknown[]>,
  options: { intervalMs: number; found: () => void },
): { stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const look = async () => {
    const any = await list().then(
      (subscriptions) => subscriptions.length > 0,
      () => true,
    );
    if (stopped) return;
    if (any) options.found();
    else timer = setTimeout(() => void look(), options.intervalMs).unref();
  };
  void look();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
