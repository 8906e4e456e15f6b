import { decorate } from "../lib/decorate.js";
import { RegistryError } from "../registry/errors.js";
import { isDigest } from "../registry/references.js";
import type { Registry, RegistryService } from "../registry/registry-service.js";
import type { AuditLog } from "./audit-log.js";
import type { Metrics } from "./metrics.js";

/**
 * The registry with its changes in the audit trail (pushes of manifests, deletes of manifests,
 * tags and blobs), written once the change is stored. Who and from where come from the request
 * being served (the audit log reads its scope), so this is built once, not per request.
 */
export function auditedRegistry(inner: Registry, audit: AuditLog): Registry {
  const record = (event: string, target: Record<string, string | number | undefined>) =>
    audit({ event, outcome: "success", target });
  const manifests = decorate(inner.manifests, {
    // every argument passed on as it came (a wrapper naming them would drop one added later)
    put:
      (original) =>
      async (...args) => {
        const result = await original(...args);
        const [repository, reference] = args;
        const tag = isDigest(reference) ? undefined : reference;
        record("manifest.push", { repository, digest: result.digest, tag, size: result.size });
        return result;
      },
    delete: (original) => async (repository, reference) => {
      await original(repository, reference);
      record(isDigest(reference) ? "manifest.delete" : "tag.delete", { repository, reference });
    },
  });
  const blobs = decorate(inner.blobs, {
    delete: (original) => async (repository, digest) => {
      await original(repository, digest);
      record("blob.delete", { repository, digest });
    },
  });
  return { manifests, blobs, uploads: inner.uploads, catalog: inner.catalog };
}

/**
 * The registry service with its uploads counted (started, completed, failed by error code,
 * requests in progress) and the purge of abandoned uploads reported as garbage collection.
 */
export function meteredRegistry(registry: RegistryService, metrics: Metrics): RegistryService {
  const inProgress =
    <A extends unknown[], R>(work: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      metrics.uploadsInProgress(1);
      try {
        return await work(...args);
      } finally {
        metrics.uploadsInProgress(-1);
      }
    };
  const uploads = decorate(registry.uploads, {
    start: (original) =>
      inProgress(async (repository, body, options) => {
        const result = await original(repository, body, options);
        if (!(result.kind === "blob" && result.mounted)) metrics.uploadStarted();
        if (result.kind === "blob" && !result.mounted) metrics.uploadCompleted();
        return result;
      }),
    append: (original) => inProgress(original),
    complete: (original) =>
      inProgress(async (upload, digest, body) => {
        try {
          const record = await original(upload, digest, body);
          metrics.uploadCompleted();
          return record;
        } catch (error) {
          metrics.uploadFailed(error instanceof RegistryError ? error.code : "error");
          throw error;
        }
      }),
    purgeExpired: (original) => async (dryRun) => {
      try {
        const purged = await original(dryRun);
        metrics.gcRun("uploads", "ok");
        if (!dryRun) metrics.gcItems("upload", purged.length);
        return purged;
      } catch (error) {
        metrics.gcRun("uploads", "failed");
        throw error;
      }
    },
  });
  return Object.create(registry, { uploads: { value: uploads, enumerable: true } }) as RegistryService;
}
