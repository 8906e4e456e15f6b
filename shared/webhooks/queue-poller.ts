import type { MessageReceiver, ReceivedMessage } from "../storage/ports/message-queue.js";

export interface PollerOptions {
  /** Messages handled at once: a slow endpoint holds one slot, not the queue. */
  concurrency: number;
  /** Wait after finding the queue empty (or failing to read it). */
  idleMs: number;
  /** Seconds a taken message stays invisible; renewed at half-time while it is handled. */
  leaseSeconds: number;
  /** Dequeues after which a message that keeps failing goes to `<queue>-poison`. */
  maxDequeueCount: number;
  log: (line: string) => void;
}

export interface Poller {
  /** Stops taking messages and waits for those in hand; an unfinished one reappears after its lease. */
  stop(): Promise<void>;
}

/**
 * The Node server's stand-in for a Functions queue trigger: takes messages, runs the handler,
 * and removes a message only when the handler succeeded. A failed handler leaves it to come
 * back after its lease (like the trigger's retries); a process killed meanwhile loses nothing.
 */
export function startPoller(
  queue: MessageReceiver,
  handle: (text: string) => Promise<unknown>,
  options: PollerOptions,
): Poller {
  const inFlight = new Set<Promise<void>>();
  let running = true;
  let wake: (() => void) | undefined;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });

  const handleOne = async (message: ReceivedMessage): Promise<void> => {
    // renewals run one at a time and are awaited before the removal, which needs the latest receipt
    let renewing = Promise.resolve();
    const renewal = setInterval(
      () => {
        // a lost lease means a possible duplicate, never a loss
        renewing = renewing.then(() => message.renew(options.leaseSeconds)).catch(() => undefined);
      },
      (options.leaseSeconds * 1000) / 2,
    );
    const settle = async () => {
      clearInterval(renewal);
      await renewing;
    };
    try {
      await handle(message.text).finally(settle);
      await message.remove();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if (message.dequeueCount >= options.maxDequeueCount) {
        options.log(`${queue.name}: message failed ${message.dequeueCount} times (${reason}); moved to poison queue`);
        await message.poison().catch(() => undefined);
      } else {
        options.log(`${queue.name}: message failed (${reason}); it will be retried`);
      }
    }
  };

  const loop = async () => {
    while (running) {
      const free = options.concurrency - inFlight.size;
      if (free <= 0) {
        await Promise.race(inFlight);
        continue;
      }
      let messages: ReceivedMessage[] = [];
      try {
        messages = await queue.receive(free, options.leaseSeconds);
      } catch (error) {
        options.log(`${queue.name}: cannot read the queue (${error instanceof Error ? error.message : String(error)})`);
      }
      for (const message of messages) {
        const work = handleOne(message).finally(() => {
          inFlight.delete(work);
          wake?.(); // a slot is free: look for more work now
        });
        inFlight.add(work);
      }
      if (messages.length === 0 && running) await sleep(options.idleMs);
    }
  };
  const looping = loop();

  return {
    async stop() {
      running = false;
      wake?.();
      await looping;
      await Promise.all(inFlight);
    },
  };
}
