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
  /**
   * Let a Node consumer take the source back (takeNodeSource) as long as nothing was read:
   * a download bound for a Node socket then skips the web stream altogether. Nothing is read
   * ahead before the first read.
   */
  detachable?: boolean;
  /** Called with the size of each chunk taken from the source (an HTTP server counts a request's bytes). */
  onChunk?: (bytes: number) => void;
}

/** Where a detachable web stream keeps the function that gives its Node source away. */
const NODE_SOURCE = Symbol("stowage.nodeSource");

/**
 * The Node stream behind a web stream made with `detachable`, if nothing has read it yet (the
 * web stream is then spent: any later read fails). For an adapter that writes to a Node socket.
 */
export function takeNodeSource(stream: ReadableStream<Uint8Array> | null): Readable | undefined {
  if (!stream || stream.locked) return undefined;
  const take = (stream as { [NODE_SOURCE]?: () => Readable | undefined })[NODE_SOURCE];
  return take?.();
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
  let givenAway = false;
  let onData: (chunk: Buffer) => void = () => undefined;
  let onEnd = () => undefined as void;
  let onClose = () => undefined as void;
  let onError: (error: Error) => void = () => undefined;
  const stream = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        onData = (chunk) => {
          options.onChunk?.(chunk.byteLength);
          controller.enqueue(chunk);
          if ((controller.desiredSize ?? 0) <= 0) source.pause();
        };
        onEnd = () => {
          // after a cancel (an early answer drains the request) the stream is already closed
          if (ended) return;
          ended = true;
          controller.close();
        };
        // an aborted request closes without ending: the consumer must see a failure, not EOF
        onClose = () => {
          if (!ended) controller.error(new ClientClosedError("stream closed before its end"));
        };
        onError = (error) => {
          if (ended) return;
          ended = true;
          controller.error(options.fromClient ? new ClientClosedError(error.message, { cause: error }) : error);
        };
        source.on("data", onData);
        source.once("end", onEnd);
        source.once("close", onClose);
        source.once("error", onError);
        source.pause();
      },
      pull(controller) {
        if (givenAway) return controller.error(new Error("the stream's source was handed to another consumer"));
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
    { highWaterMark: onFirstPull || options.detachable ? 0 : 16 },
  );
  if (options.detachable) {
    Object.defineProperty(stream, NODE_SOURCE, {
      value: () => {
        if (pulled || ended || givenAway) return undefined;
        givenAway = true;
        source.off("data", onData);
        source.off("end", onEnd);
        source.off("close", onClose);
        source.off("error", onError);
        return source;
      },
    });
  }
  return stream;
}

/**
 * Pipes a Node stream to a Node writable (the fast path of a download: no web stream between),
 * with the guarantees of writeWebStream: stops if the peer goes away (the source is destroyed,
 * releasing its storage connection), or, with `stallMs`, if the peer accepts nothing for that
 * long. Resolves with the bytes passed on; rejects with the source's error (the caller then
 * breaks the response off).
 */
export function pipeNodeStream(source: Readable, target: Writable, stallMs?: number): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    let bytes = 0;
    const finish = (error?: Error) => {
      clearTimeout(timer);
      source.off("data", watch);
      target.off("drain", relax);
      if (error) reject(error);
      else resolve(bytes);
    };
    // backpressure that lasts: the peer stopped reading
    const watch = (chunk: Buffer) => {
      bytes += chunk.byteLength;
      if (stallMs === undefined || timer || !target.writableNeedDrain) return;
      timer = setTimeout(() => {
        target.destroy();
        source.destroy();
      }, stallMs);
    };
    const relax = () => {
      clearTimeout(timer);
      timer = undefined;
    };
    source.on("data", watch);
    target.on("drain", relax);
    source.once("error", (error) => finish(error));
    target.once("close", () => {
      if (!source.readableEnded) source.destroy();
      finish();
    });
    source.pipe(target);
  });
}

/**
 * Writes a web stream to a Node writable, waiting for drain; stops if the peer goes away, or
 * (with `stallMs`) if it accepts nothing for that long, so a client that stops reading cannot
 * hold the response (and the storage stream behind it) open forever. Resolves with the bytes written.
 */
export async function writeWebStream(
  body: ReadableStream<Uint8Array>,
  target: Writable,
  stallMs?: number,
): Promise<number> {
  const reader = body.getReader();
  let closed: Promise<"closed"> | undefined;
  let bytes = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      bytes += value.byteLength;
      if (!target.write(value)) {
        // only a body the peer does not keep up with waits: a small answer adds no listener
        closed ??= target.closed ? Promise.resolve("closed") : once(target, "close").then(() => "closed" as const);
        let timer: NodeJS.Timeout | undefined;
        const stalled = new Promise<"stalled">((resolve) => {
          if (stallMs !== undefined) timer = setTimeout(() => resolve("stalled"), stallMs);
        });
        const outcome = await Promise.race([once(target, "drain").then(() => "drained" as const), closed, stalled]);
        clearTimeout(timer);
        if (outcome !== "drained") {
          if (outcome === "stalled") target.destroy();
          await reader.cancel();
          return bytes;
        }
      }
    }
    target.end();
    return bytes;
  } finally {
    reader.releaseLock();
  }
}
