/** Streams made by bytesStream, with the bytes each was made from. */
const sources = new WeakMap<ReadableStream<Uint8Array>, Uint8Array>();

/**
 * Bytes already in memory (a manifest) as a web stream body: it reads like any other (one chunk,
 * nothing enqueued before the first read), but a consumer that writes to a Node socket can take
 * the bytes whole (takeBytes) and skip the stream. Cheaper to make than `new Response(bytes)`,
 * whose byte stream costs more to set up and to read.
 */
export function bytesStream(bytes: Uint8Array): ReadableStream<Uint8Array> {
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        controller.enqueue(bytes);
        controller.close();
      },
    },
    { highWaterMark: 0 },
  );
  sources.set(stream, bytes);
  return stream;
}

/** The bytes behind a stream made by bytesStream, if nothing has read it (it is left unread). */
export function takeBytes(stream: ReadableStream<Uint8Array> | null): Uint8Array | undefined {
  if (!stream || stream.locked) return undefined;
  return sources.get(stream);
}
