import { hostname } from "node:os";
import type { Blobs } from "../registry/blob-service.js";
import { RegistryError } from "../registry/errors.js";
import type { Manifests } from "../registry/manifest-service.js";
import { isDigest } from "../registry/references.js";
import type { Registry } from "../registry/registry-service.js";
import type { Uploads } from "../registry/uploads.js";
import type { MessageSender } from "../storage/ports/message-queue.js";
import {
  INSTANCE_ID,
  newEventId,
  type EventAction,
  type EventTarget,
  type RegistryEvent,
  type RequestOrigin,
} from "./registry-event.js";

export interface EventOptions {
  /** Where events go before the request is answered (an Azure Storage queue). */
  sink: MessageSender<RegistryEvent>;
  /** Actions recorded; others are not. */
  actions: ReadonlySet<EventAction>;
  /** Also record pushes and pulls of blobs (each layer), as distribution does; off: manifests only. */
  blobTransfers: boolean;
}

type Kind = "manifests" | "blobs";
type Emit = (action: EventAction, kind: Kind, target: Omit<EventTarget, "url" | "length">) => Promise<void>;

/**
 * The registry as one request sees it, recording an event for each change (and, where
 * configured, each read) once the storage commit succeeded and before the caller answers.
 * A failed publish fails the request: the client retries the idempotent operation, so every
 * acknowledged change has its event (at least once).
 */
export function notifyingRegistry(inner: Registry, origin: () => RequestOrigin, options: EventOptions): Registry {
  const emit = emitter(origin, options);
  const blobTransfer = options.blobTransfers;
  const manifests: Manifests = {
    get maxBytes() {
      return inner.manifests.maxBytes;
    },
    stat: (repository, reference) => inner.manifests.stat(repository, reference),
    put(repository, reference, bytes, contentType) {
      // the event is queued as soon as the manifest is committed, alongside the PUT's last calls
      return inner.manifests.put(repository, reference, bytes, contentType, {
        committed: ({ digest, mediaType, size }) =>
          emit("push", "manifests", { repository, digest, mediaType, size, ...tagOf(reference) }),
        // removed again before the PUT answered (a sweep took a blob): its push event is undone
        withdrawn: (digest) => emit("delete", "manifests", { repository, digest }),
      });
    },
    async get(repository, reference) {
      const manifest = await inner.manifests.get(repository, reference);
      const { digest, mediaType, content } = manifest;
      await emit("pull", "manifests", { repository, digest, mediaType, size: content.byteLength, ...tagOf(reference) });
      return manifest;
    },
    async delete(repository, reference) {
      await inner.manifests.delete(repository, reference);
      await emit(
        "delete",
        "manifests",
        isDigest(reference) ? { repository, digest: reference } : { repository, tag: reference },
      );
    },
  };
  const uploads: Uploads = {
    status: (upload) => inner.uploads.status(upload),
    append: (upload, body, range) => inner.uploads.append(upload, body, range),
    cancel: (upload) => inner.uploads.cancel(upload),
    async start(repository, body, startOptions) {
      const result = await inner.uploads.start(repository, body, startOptions);
      if (result.kind === "blob") {
        const target = { repository, digest: result.record.digest, size: result.record.size, mediaType: BLOB_TYPE };
        if (result.mounted) await emit("mount", "blobs", target);
        else if (blobTransfer) await emit("push", "blobs", target);
      }
      return result;
    },
    async complete(upload, digest, body) {
      const record = await inner.uploads.complete(upload, digest, body);
      if (blobTransfer) {
        const target = { repository: upload.repository, digest, size: record.size, mediaType: BLOB_TYPE };
        await emit("push", "blobs", target);
      }
      return record;
    },
  };
  const blobs: Blobs = {
    stat: (repository, digest) => inner.blobs.stat(repository, digest),
    async open(repository, digest, resolveRange) {
      const content = await inner.blobs.open(repository, digest, resolveRange);
      if (blobTransfer)
        await emit("pull", "blobs", { repository, digest, size: content.record.size, mediaType: BLOB_TYPE });
      return content;
    },
    async delete(repository, digest) {
      await inner.blobs.delete(repository, digest);
      await emit("delete", "blobs", { repository, digest });
    },
  };
  return { manifests, uploads, blobs, catalog: inner.catalog };
}

/** Blobs carry no media type of their own; distribution names them so. */
const BLOB_TYPE = "application/octet-stream";

function emitter(origin: () => RequestOrigin, options: EventOptions): Emit {
  return async (action, kind, target) => {
    if (!options.actions.has(action)) return;
    const from = origin();
    const reference = target.digest ?? target.tag;
    const event: RegistryEvent = {
      id: newEventId(),
      timestamp: new Date().toISOString(),
      action,
      target: {
        ...target,
        ...(target.size !== undefined ? { length: target.size } : {}),
        ...(reference ? { url: `${from.baseUrl}/v2/${target.repository}/${kind}/${reference}` } : {}),
      },
      request: {
        id: from.requestId ?? newEventId(),
        addr: from.addr,
        host: from.host,
        method: from.method,
        useragent: from.useragent,
      },
      actor: from.actor ? { name: from.actor } : {},
      source: { addr: hostname(), instanceID: INSTANCE_ID },
    };
    try {
      await options.sink.send(event);
    } catch (error) {
      throw new RegistryError("UNKNOWN", "the change was stored but its event could not be queued; retry the request", {
        cause: error instanceof Error ? error.message : String(error),
      });
    }
  };
}

function tagOf(reference: string): { tag?: string } {
  return isDigest(reference) ? {} : { tag: reference };
}
