/** What the token server and the registry agree on: who signs, for whom, for how long. */
export interface TokenSettings {
  /** `iss`: names the token server. */
  issuer: string;
  /** `aud`, and the `service` of the challenge: names this registry. */
  service: string;
  /** Access-token lifetime (`expires_in`). */
  ttlSeconds: number;
}

/** Clock skew tolerated between the instance that signed a token and the one checking it. */
export const CLOCK_TOLERANCE_SECONDS = 30;
