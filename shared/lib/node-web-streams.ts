import { once } from "node:events";
import type { Readable, Writable } from "node:stream";

/** The peer went away before the body it was sending ended: nobody is left to answer. */
export class ClientClosedError extends Error {
  override name = "ClientClosedError";
}

export interface WebStreamOptions {
  /**
   * Called when the consumer first asks for bytes (e.g. to send `100 Continue` only once the
   * body is really wanted). With it, nothing is read ahead before that first read.
   */
  onFirstPull?: () => void;
  /**
   * On cancel, leave the source paused instead of destroying it: its owner decides what happens
   * to the rest (an HTTP server drains the request or closes the connection after answering).
   */
  keepOnCancel?: boolean;
  /** The source is a client's request: any failure of it means the client went away (ClientClosedError). */
  fromClient?: boolean;
}

/**
 * Node stream <-> web stream bridges for the fetch-style core. Node 20's `Readable.toWeb`
 * copies every chunk and `Readable.fromWeb` adds another layer of buffering; on a multi-GiB
 * layer that is most of the adapter's CPU and garbage. These hand Buffers through as they are,
 * with backpressure both ways.
 */
export function webStreamOf(source: Readable, options: WebStreamOptions = {}): ReadableStream<Uint8Array> {
  const { onFirstPull } = options;
  let ended = false;
  let pulled = false;
  let onData: (chunk: Buffer) => void = () => undefined;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        onData = (chunk) => {
          controller.enqueue(chunk);
          if ((controller.desiredSize ?? 0) <= 0) source.pause();
        };
        source.on("data", onData);
        source.once("end", () => {
          // after a cancel (an early answer, the rest of the body drained) the stream is closed already
          if (ended) return;
          ended = true;
          controller.close();
        });
        // an aborted request closes without ending: the consumer must see a failure, not EOF
        source.once("close", () => {
          if (!ended) controller.error(new ClientClosedError("stream closed before its end"));
        });
        source.once("error", (error) => {
          ended = true;
          controller.error(options.fromClient ? new ClientClosedError(error.message, { cause: error }) : error);
        });
        source.pause();
      },
      pull() {
        if (!pulled) {
          pulled = true;
          onFirstPull?.(); // e.g. send `100 Continue` only once the body is really wanted
        }
        source.resume();
      },
      cancel() {
        ended = true;
        source.off("data", onData);
        if (options.keepOnCancel) source.pause();
        else source.destroy();
      },
    },
    // chunks, not bytes: a few hundred KiB in flight at most; none before a first read when that matters
    { highWaterMark: onFirstPull ? 0 : 16 },
  );
}

/**
 * Writes a web stream to a Node writable, waiting for drain; stops if the peer goes away, or
 * (with `stallMs`) if it accepts nothing for that long, so a client that stops reading cannot
 * hold the response (and the storage stream behind it) open forever.
 */
export async function writeWebStream(
  body: ReadableStream<Uint8Array>,
  target: Writable,
  stallMs?: number,
): Promise<void> {
  const reader = body.getReader();
  const closed = once(target, "close").then(() => "closed" as const);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (!target.write(value)) {
        let timer: NodeJS.Timeout | undefined;
        const stalled = new Promise<"stalled">((resolve) => {
          if (stallMs !== undefined) timer = setTimeout(() => resolve("stalled"), stallMs);
        });
        const outcome = await Promise.race([once(target, "drain").then(() => "drained" as const), closed, stalled]);
        clearTimeout(timer);
        if (outcome !== "drained") {
          if (outcome === "stalled") target.destroy();
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
