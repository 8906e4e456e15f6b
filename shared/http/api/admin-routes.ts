import * as z from "../../lib/schema.js";
import { ADMIN_ACCESS, ADMIN_RULES } from "../../auth/permissions.js";
import { IdentityError, type IdentityAdmin } from "../../auth/identity-admin.js";
import { formatScope } from "../../auth/scopes.js";
import { generateSecret } from "../../auth/passwords.js";
import type { IdentityRecord } from "../../storage/ports/identity-storage.js";
import type { DeadLetters } from "../../webhooks/dead-letters.js";
import { SubscriptionError } from "../../webhooks/subscription.js";
import type { SubscriptionDirectory } from "../../webhooks/subscriptions.js";
import type { WebhookService } from "../../webhooks/webhook-service.js";
import { readLimited } from "../body.js";
import { HttpError } from "../http-error.js";
import { jsonResponse, type ApiRoute } from "./api-route.js";

export interface AdminRouteDeps {
  identities: IdentityAdmin;
  webhooks: { service: WebhookService; directory: SubscriptionDirectory; deadLetters: DeadLetters };
  now: () => number;
}

const adminOnly = () => [ADMIN_ACCESS];

const newUser = z.strictObject({
  name: z.string(),
  password: z.optional(z.string()),
  access: z._default(z.array(z.string()).check(z.maxLength(100)), []),
  admin: z._default(z.boolean(), false),
});

const newToken = z.strictObject({
  name: z.string(),
  access: z.array(z.string()).check(z.minLength(1), z.maxLength(100)),
  expiresInDays: z.optional(z.number().check(z.int(), z.minimum(1), z.maximum(3650))),
});

/**
 * The admin pages' API (administrators only, see ADMIN_ACCESS): users and access tokens, as the
 * CLI manages them (secrets shown once, in the answer that creates them), and webhook
 * subscriptions with their dead letters. Storage usage and clean-up reports belong to the
 * repository lifecycle feature, which adds its own routes.
 */
export function adminRoutes(deps: AdminRouteDeps): ApiRoute[] {
  return [
    {
      pattern: /^\/api\/v1\/admin\/identities$/,
      access: adminOnly,
      methods: {
        GET: async () => {
          const [users, tokens] = await Promise.all([deps.identities.list("user"), deps.identities.list("token")]);
          return jsonResponse({ users: users.map(describe), tokens: tokens.map(describe) });
        },
      },
    },
    {
      pattern: /^\/api\/v1\/admin\/users$/,
      access: adminOnly,
      methods: {
        POST: async ({ request }) => {
          const input = await readJson(request, newUser);
          const password = input.password || generateSecret(18);
          const access = [...input.access, ...(input.admin ? ADMIN_RULES.map(formatScope) : [])];
          await identityCall(() => deps.identities.addUser({ name: input.name, access }, password));
          return jsonResponse({ name: input.name, ...(input.password ? {} : { password }) }, 201);
        },
      },
    },
    {
      pattern: /^\/api\/v1\/admin\/tokens$/,
      access: adminOnly,
      methods: {
        POST: async ({ request }) => {
          const input = await readJson(request, newToken);
          const expiresAt = input.expiresInDays ? new Date(deps.now() + input.expiresInDays * 86_400_000) : undefined;
          const secret = await identityCall(() =>
            deps.identities.createToken({
              name: input.name,
              access: input.access,
              ...(expiresAt ? { expiresAt } : {}),
            }),
          );
          return jsonResponse({ name: input.name, secret, expiresAt: expiresAt?.toISOString() }, 201);
        },
      },
    },
    {
      pattern: /^\/api\/v1\/admin\/(?<kind>user|token)s\/(?<login>[^/]+)$/,
      access: adminOnly,
      methods: {
        DELETE: async ({ params }) => {
          await identityCall(() => deps.identities.remove(params.login as string, params.kind as "user" | "token"));
          return new Response(null, { status: 204 });
        },
      },
    },
    {
      pattern: /^\/api\/v1\/admin\/webhooks$/,
      access: adminOnly,
      methods: {
        GET: async () => {
          const [subscriptions, deadLetters] = await Promise.all([
            deps.webhooks.directory.list(),
            deps.webhooks.deadLetters.list(),
          ]);
          return jsonResponse({
            // secrets and custom headers (which may hold credentials) never leave the server
            subscriptions: subscriptions.map(({ subscription: s, origin }) => ({
              name: s.name,
              url: s.url,
              actions: s.actions ?? [],
              repositories: s.repositories ?? [],
              format: s.format ?? "distribution",
              signed: Boolean(s.secret),
              origin,
            })),
            deadLetters,
          });
        },
      },
    },
    {
      pattern: /^\/api\/v1\/admin\/webhooks\/dead-letters\/(?<id>[^/]+)\/replay$/,
      access: adminOnly,
      methods: {
        POST: async ({ params }) => {
          try {
            return jsonResponse(await deps.webhooks.service.replay(params.id as string));
          } catch (error) {
            if (error instanceof SubscriptionError) throw new HttpError(404, "UNKNOWN", error.message);
            throw error;
          }
        },
      },
    },
  ];
}

function describe(record: IdentityRecord) {
  return {
    name: record.name,
    kind: record.kind,
    access: record.access,
    createdAt: record.createdAt,
    ...(record.expiresAt ? { expiresAt: record.expiresAt } : {}),
  };
}

async function readJson<T>(request: Request, schema: z.ZodMiniType<T>): Promise<T> {
  const text = new TextDecoder().decode(await readLimited(request, 64 * 1024));
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HttpError(400, "UNSUPPORTED", "the body is not JSON");
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new HttpError(400, "UNSUPPORTED", z.prettifyError(parsed.error));
  return parsed.data;
}

/** Identity management refusals (a taken name, a bad rule, a short password) are the caller's mistake. */
async function identityCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof IdentityError) throw new HttpError(400, "UNSUPPORTED", error.message);
    throw error;
  }
}
