import { basicCredentials } from "./credentials.js";
import { runLoad, type LoadResult } from "./load.js";
import type { Target } from "./target.js";

/**
 * Token issue with a Basic password, as docker/podman/skopeo get one per repository: GET
 * /token with the same credentials from `connections` clients at once. Targets without
 * credentials (distribution runs without auth) are not measured.
 */
export async function measureTokenIssue(
  target: Target,
  repository: string,
  options: { connections: number; seconds: number },
): Promise<LoadResult | undefined> {
  const basic = basicCredentials(target.url);
  if (!basic) return undefined;
  const scope = `repository:${repository}:pull,push`;
  return runLoad({
    url: `${target.url}/token?service=stowage&scope=${encodeURIComponent(scope)}`,
    method: "GET",
    headers: { Authorization: basic },
    connections: options.connections,
    seconds: options.seconds,
  });
}
