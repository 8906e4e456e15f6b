/**
 * `Promise.all(items.map(work))` with at most `limit` calls of `work` in flight, so one request
 * cannot fan out into thousands of storage calls at once. Results keep the items' order; the
 * first failure rejects and no further call starts (calls already started are left to finish).
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        results[index] = await work(items[index] as T);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
