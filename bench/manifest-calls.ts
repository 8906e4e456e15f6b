import { call, expectStatus, keepAliveAgent } from "./http.js";
import { MANIFEST_ACCEPT } from "./small-image.js";
import type { StorageCallCounter } from "./storage-call-counter.js";
import type { Target } from "./target.js";

export interface RequestCalls {
  requests: number;
  /** Storage requests per registry request, all kinds together. */
  perRequest: number;
  /** Per registry request, by `METHOD service comp`. */
  byKind: Record<string, number>;
}

export interface ManifestCalls {
  getByTag: RequestCalls;
  headByTag: RequestCalls;
  getByDigest: RequestCalls;
  /** The same (already stored) manifest under a new tag each time, as the `tags` phase does. */
  putByTag: RequestCalls;
}

/**
 * Storage round trips per manifest request of the kinds the load phases time, through a
 * server whose storage goes through `counter`: after one unmeasured request of each kind (the
 * token, first-use work), `requests` more, one after another.
 */
export async function countManifestCalls(
  target: Target,
  repository: string,
  image: { tag: string; digest: string },
  counter: StorageCallCounter,
  requests: number,
): Promise<ManifestCalls> {
  const agent = keepAliveAgent(1);
  const url = (reference: string) => `${target.url}/v2/${repository}/manifests/${reference}`;
  const headers = { Accept: MANIFEST_ACCEPT };
  try {
    const manifest = expectStatus(
      await call(url(image.digest), { method: "GET", headers, agent, timeoutMs: 30_000 }),
      200,
      "GET manifest",
    );
    const contentType = String(manifest.headers["content-type"]);
    let tags = 0;
    const count = async (send: () => Promise<void>): Promise<RequestCalls> => {
      await send();
      counter.take();
      for (let i = 0; i < requests; i++) await send();
      const { total, byKind } = counter.take();
      const per = Object.fromEntries(Object.entries(byKind).map(([k, v]) => [k, v / requests]));
      return { requests, perRequest: total / requests, byKind: per };
    };
    const request = (method: string, reference: string, status: number) => async () => {
      const put = method === "PUT";
      expectStatus(
        await call(url(reference), {
          method,
          headers: put ? { "Content-Type": contentType } : headers,
          ...(put ? { body: manifest.body } : {}),
          agent,
          timeoutMs: 30_000,
        }),
        status,
        `${method} manifest ${reference}`,
      );
    };
    return {
      getByTag: await count(request("GET", image.tag, 200)),
      headByTag: await count(request("HEAD", image.tag, 200)),
      getByDigest: await count(request("GET", image.digest, 200)),
      putByTag: await count(() => request("PUT", `calls-${tags++}`, 201)()),
    };
  } finally {
    agent.destroy();
  }
}
