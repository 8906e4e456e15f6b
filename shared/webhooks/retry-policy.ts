/** How often and how patiently a delivery is retried. */
export interface RetryPolicy {
  /** Attempts before the delivery goes to the dead-letter store. */
  maxAttempts: number;
  /** Wait after the first failure; doubles after each further one. */
  backoffMs: number;
  /** Longest wait between two attempts. */
  maxBackoffMs: number;
}

/**
 * Whole seconds to wait before attempt `failed + 1` (queue visibility timeouts are whole
 * seconds): base x 2^(failed-1), capped. Undefined when `failed` attempts are all it gets.
 */
export function retryDelaySeconds(policy: RetryPolicy, failed: number): number | undefined {
  if (failed >= policy.maxAttempts) return undefined;
  const ms = Math.min(policy.backoffMs * 2 ** Math.max(0, failed - 1), policy.maxBackoffMs);
  return Math.ceil(ms / 1000);
}
