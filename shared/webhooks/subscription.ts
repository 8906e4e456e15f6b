import * as z from "../lib/schema.js";
import { jsonText } from "../lib/json-text.js";
import type { EventAction } from "../events/registry-event.js";

export const WEBHOOK_FORMATS = ["distribution", "acr", "cloudevents"] as const;
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number];

const ACTIONS = ["push", "delete", "pull", "mount"] as const satisfies readonly EventAction[];

/** Headers the sender sets itself; a subscription may not override them. */
const RESERVED_HEADERS = new Set(["content-type", "content-length", "host", "connection", "transfer-encoding"]);

/** One webhook endpoint: where events go, which ones, in what shape, signed with what. */
export const subscriptionSchema = z.strictObject({
  name: z
    .string()
    .check(z.regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "1-64 letters, digits, . _ - (starting alphanumeric)")),
  url: z.url({ protocol: /^https?$/ }),
  /** HMAC-SHA256 key of the signature header; unset: deliveries are not signed. */
  secret: z.optional(z.string().check(z.minLength(16, "at least 16 characters"))),
  /** Actions delivered (default: all the registry records). */
  actions: z.optional(z.array(z.enum(ACTIONS)).check(z.minLength(1))),
  /** Repository patterns delivered, `*` matching anything (default: all). */
  repositories: z.optional(
    z
      .array(z.string().check(z.regex(/^[a-z0-9._/*-]+$/, "a repository pattern such as team/* or *")))
      .check(z.minLength(1)),
  ),
  headers: z.optional(
    z.record(z.string(), z.string().check(z.regex(/^[^\r\n]*$/, "a single-line value"))).check(
      z.superRefine((headers, ctx) => {
        for (const name of Object.keys(headers)) {
          const message = !/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(name)
            ? "not a header name"
            : RESERVED_HEADERS.has(name.toLowerCase()) || /^stowage-/i.test(name)
              ? "a reserved header"
              : undefined;
          if (message) ctx.addIssue({ code: "custom", path: [name], message });
        }
      }),
    ),
  ),
  format: z.optional(z.enum(WEBHOOK_FORMATS)),
  timeoutMs: z.optional(z.number().check(z.int(), z.minimum(100), z.maximum(120_000))),
});

export type Subscription = z.infer<typeof subscriptionSchema>;

/** STOWAGE_WEBHOOKS: a JSON array of subscriptions with distinct names. */
export const subscriptionListSchema = z
  .pipe(jsonText("not valid JSON"), z.array(subscriptionSchema))
  .check(
    z.refine((list) => new Set(list.map((s) => s.name)).size === list.length, "subscription names must be unique"),
  );

/** Validates one subscription (the CLI's `webhook add`); throws a message naming the bad fields. */
export function parseSubscription(value: unknown): Subscription {
  const result = subscriptionSchema.safeParse(value);
  if (result.success) return result.data;
  throw new SubscriptionError(
    result.error.issues.map((i) => `${i.path.join(".") || "subscription"}: ${i.message}`).join("; "),
  );
}

export class SubscriptionError extends Error {
  override name = "SubscriptionError";
}

/** A subscription as it may be shown: no secret, header names without their values. */
export function describeSubscription(s: Subscription, origin: string): string {
  return [
    s.name,
    s.url.replace(/\/\/[^/@]*@/, "//***@"), // credentials in a URL are secrets too
    `format=${s.format ?? "distribution"}`,
    `actions=${s.actions?.join(",") ?? "*"}`,
    `repositories=${s.repositories?.join(",") ?? "*"}`,
    `signed=${s.secret ? "yes" : "no"}`,
    ...(s.headers ? [`headers=${Object.keys(s.headers).join(",")}`] : []),
    ...(s.timeoutMs ? [`timeoutMs=${s.timeoutMs}`] : []),
    `from=${origin}`,
  ].join("\t");
}
