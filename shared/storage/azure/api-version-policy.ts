import type { RequestPolicyFactory } from "@azure/storage-blob";
import type { TableServiceClientOptions } from "@azure/data-tables";

/**
 * Pins the storage REST API version (`x-ms-version`) of every request, for storage services
 * that accept only older versions than the SDK speaks (Azure Stack Hub). The generated SDK
 * code sets the header while serializing; these policies replace it before the request is
 * signed (Shared Key signs the `x-ms-*` headers), so what is signed is what is sent.
 */
const HEADER = "x-ms-version";

/** For the Blob and Queue clients (their pipelines take request policy factories). */
export function blobQueueVersionPolicy(version: string): RequestPolicyFactory {
  return {
    create: (next) => ({
      sendRequest: (request) => {
        request.headers.set(HEADER, version);
        return next.sendRequest(request);
      },
    }),
  };
}

type TablePolicy = NonNullable<TableServiceClientOptions["additionalPolicies"]>[number];

/** For the Table clients (core pipeline; "perCall" runs before the Sign phase). */
export function tableVersionPolicy(version: string): TablePolicy {
  return {
    position: "perCall",
    policy: {
      name: "stowagePinnedApiVersion",
      sendRequest: (request, next) => {
        request.headers.set(HEADER, version);
        return next(request);
      },
    },
  };
}
