import type { PipelineRequest } from "@azure/core-rest-pipeline";
import type { PipelinePolicy } from "./storage-call-policy.js";

/**
 * The container is made by the first blob write that finds it missing, not at start-up: a
 * deployment's first start then never loads the blob SDK (a token, a tag read or a catalog
 * page do not need it), no start pays a call for it, and a container deleted under a running
 * registry comes back with the next write. A write (every blob write is a PUT) answered 404
 * `ContainerNotFound` waits for one shared create, then is sent again; reads need nothing
 * (a missing container holds no blob, and they already read 404 as "no blob").
 *
 * Placed after the Deserialize phase, so it sees the answer before it becomes an error, and
 * its resend goes through retries and signing again.
 */
export function containerOnDemandPolicy(create: () => Promise<unknown>): PipelinePolicy {
  let creating: Promise<unknown> | undefined;
  return {
    name: "stowageContainerOnDemand",
    async sendRequest(request, next) {
      const response = await next(request);
      if (
        response.status !== 404 ||
        response.headers.get("x-ms-error-code") !== "ContainerNotFound" ||
        !resendable(request)
      ) {
        return response;
      }
      creating ??= create().finally(() => (creating = undefined));
      try {
        await creating;
      } catch {
        // The create's call is counted by status in the storage-call metrics. The write fails as
        // it would have, with its own 404: not with, say, Azure's 409 ContainerBeingDeleted,
        // which the stores would read as a lost race.
        return response;
      }
      return next(request);
    },
  };
}

/** A blob write whose body can be sent twice: bytes (all Stowage sends) or a stream factory, not a stream. */
function resendable(request: PipelineRequest): boolean {
  const { body } = request;
  return (
    request.method === "PUT" &&
    !new URL(request.url).searchParams.has("restype") && // the container's own create
    (body === undefined ||
      body === null ||
      typeof body === "string" ||
      typeof body === "function" ||
      body instanceof Uint8Array)
  );
}
