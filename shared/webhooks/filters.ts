import { matchesPattern } from "../lib/repository-pattern.js";
import type { Subscription } from "./subscription.js";
import type { WebhookEvent } from "./webhook-event.js";

/** Whether a subscription wants an event: its action filter and repository patterns (unset: all). */
export function subscriptionMatches(subscription: Subscription, event: WebhookEvent): boolean {
  if (event.action === "ping") return false; // pings go to one named subscription, never fanned out
  if (subscription.actions && !subscription.actions.includes(event.action)) return false;
  const repository = event.target.repository;
  return !subscription.repositories || subscription.repositories.some((p) => matchesPattern(p, repository));
}
