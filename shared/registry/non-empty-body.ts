import type { Body } from "./body.js";

/**
 * The body, or null when it holds no bytes. Clients send empty PUTs without Content-Length
 * (curl, some Docker versions), so "has a body" can only be known by reading: this reads up
 * to the first non-empty chunk and hands back a stream that still starts with it.
 */
export async function nonEmptyBody(body: Body): Promise<Body> {
  if (!body) return null;
  const chunks = body[Symbol.asyncIterator]();
  let first = await chunks.next();
  while (!first.done && first.value.byteLength === 0) first = await chunks.next();
  if (first.done) return null;
  const head = first.value;
  return (async function* () {
    yield head;
    for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
  })();
}
