/** Thrown by stores when an optimistic-concurrency guard (etag) fails. */
export class ConcurrentUpdateError extends Error {
  constructor(what: string) {
    super(`concurrent update of ${what}`);
    this.name = "ConcurrentUpdateError";
  }
}
