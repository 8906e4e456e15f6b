import { once } from "node:events";
import type { Readable, Writable } from "node:stream";

/**
 * Node stream <-> web stream bridges for the fetch-style core. Node 20's `Readable.toWeb`
 * copies every chunk and `Readable.fromWeb` adds another layer of buffering; on a multi-GiB
 * layer that is most of the adapter's CPU and garbage. These hand Buffers through as they are,
 * with backpressure both ways.
 */
export function webStreamOf(source: Readable): ReadableStream<Uint8Array> {
  let ended = false;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        source.on("data", (chunk: Buffer) => {
          controller.enqueue(chunk);
          if ((controller.desiredSize ?? 0) <= 0) source.pause();
        });
        source.once("end", () => {
          ended = true;
          controller.close();
        });
        // an aborted request closes without ending: the consumer must see a failure, not EOF
        source.once("close", () => {
          if (!ended) controller.error(new Error("stream closed before its end"));
        });
        source.once("error", (error) => {
          ended = true;
          controller.error(error);
        });
        source.pause();
      },
      pull() {
        source.resume();
      },
      cancel() {
        source.destroy();
      },
    },
    { highWaterMark: 16 }, // chunks, not bytes: a few hundred KiB in flight at most
  );
}

/** Writes a web stream to a Node writable, waiting for drain; stops if the peer goes away. */
export async function writeWebStream(body: ReadableStream<Uint8Array>, target: Writable): Promise<void> {
  const reader = body.getReader();
  const closed = once(target, "close").then(() => "closed" as const);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!target.write(value)) {
        const outcome = await Promise.race([once(target, "drain").then(() => "drained" as const), closed]);
        if (outcome === "closed") {
          await reader.cancel();
          return;
        }
      }
    }
    target.end();
  } finally {
    reader.releaseLock();
  }
}
