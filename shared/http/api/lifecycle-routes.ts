import type { LifecycleService } from "../../registry/lifecycle-service.js";
import { RegistryError } from "../../registry/errors.js";
import { jsonResponse, type ApiRoute } from "./api-route.js";

/**
 * Storage lifecycle endpoints of the JSON API, for the web UI and operators' tools:
 * `DELETE /api/v1/repositories/<name>` (needs `delete` on that repository) removes a
 * repository (its bytes go with the next sweep); `GET /api/v1/usage` (needs the catalog)
 * reports storage used per repository.
 */
export function lifecycleRoutes(lifecycle: LifecycleService, options: { deleteEnabled: boolean }): ApiRoute[] {
  return [
    {
      pattern: /^\/api\/v1\/repositories\/(?<name>.+)$/,
      access: (_method, params) => [{ type: "repository", name: params.name as string, actions: ["delete"] }],
      methods: {
        DELETE: async ({ params }) => {
          if (!options.deleteEnabled)
            throw new RegistryError("DELETES_DISABLED", "deletes are disabled on this registry");
          const { rows } = await lifecycle.deleteRepository(params.name as string);
          return jsonResponse({ repository: params.name, deleted: true, rows });
        },
      },
    },
    {
      pattern: /^\/api\/v1\/usage$/,
      access: () => [{ type: "registry", name: "catalog", actions: ["*"] }],
      methods: { GET: async () => jsonResponse(await lifecycle.usage()) },
    },
  ];
}
