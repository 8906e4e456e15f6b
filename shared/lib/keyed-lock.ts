/** Thrown when too many callers already wait for one key. */
export class LockBusyError extends Error {
  override name = "LockBusyError";
}

/**
 * Runs work one at a time per key within this process, with a bounded line of waiters per
 * key. A read-modify-write of one shared row then conflicts only with other processes,
 * instead of every concurrent caller retrying against every other.
 */
export class KeyedLock {
  private readonly tails = new Map<string, { done: Promise<void>; waiting: number }>();

  constructor(private readonly maxWaiting: number) {}

  async run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const entry = this.tails.get(key) ?? { done: Promise.resolve(), waiting: 0 };
    if (entry.waiting >= this.maxWaiting) throw new LockBusyError(`too many waiting for one key`);
    const previous = entry.done;
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    entry.done = mine;
    entry.waiting++;
    this.tails.set(key, entry);
    try {
      await previous;
      return await work();
    } finally {
      entry.waiting--;
      release();
      if (entry.waiting === 0 && entry.done === mine) this.tails.delete(key);
    }
  }
}
