type Method = (...args: never[]) => unknown;
type Wrappers<T> = { [K in keyof T]?: T[K] extends Method ? (original: T[K]) => T[K] : never };

/**
 * A decorator over some methods of an object: the result is `target` (same type, same state,
 * other methods and properties untouched) except that each named method is replaced by its
 * wrapper around the original. The original stays bound to `target`, so calls the object makes
 * to itself are not seen twice.
 */
export function decorate<T extends object>(target: T, wrappers: Wrappers<T>): T {
  const decorated = Object.create(target) as T;
  for (const [key, wrap] of Object.entries(wrappers) as [keyof T, (original: unknown) => unknown][]) {
    const original = (target[key] as Method).bind(target);
    Object.defineProperty(decorated, key, { value: wrap(original), enumerable: true });
  }
  return decorated;
}
