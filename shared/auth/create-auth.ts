import type { Config } from "../config.js";
import type { Authorizer } from "../http/authorizer.js";
import type { FetchHandler, RequestObserver } from "../http/registry-app.js";
import { createAzureAuthStorage } from "../storage/azure/azure-identity-store.js";
import type { AuthStorage } from "../storage/identity-ports.js";
import { bootstrapAdmin, type BootstrapResult } from "./admin-bootstrap.js";
import { BearerAuthorizer } from "./bearer-authorizer.js";
import { anonymousIdentity, Authenticator } from "./identities.js";
import { IdentityAdmin } from "./identity-admin.js";
import { LoginThrottle } from "./login-throttle.js";
import { RefreshTokens } from "./refresh-tokens.js";
import { createSecretProvider, secretNames } from "./secrets/create-secret-provider.js";
import type { SecretProvider } from "./secrets/secret-provider.js";
import { SigningKeys } from "./signing-keys.js";
import { createTokenEndpoint } from "./token-endpoint.js";
import { TokenIssuer } from "./token-issuer.js";
import type { TokenSettings } from "./token-settings.js";
import { TokenVerifier } from "./token-verifier.js";

export interface AuthOptions {
  connectionString: string;
  /** Where the signing keys and bootstrap secrets are; defaults to the configured provider. */
  secrets?: SecretProvider;
  /** Observes token-endpoint requests (access log). */
  observe?: RequestObserver;
  /** The clock, for tests. */
  now?: () => number;
}

/** Everything authentication provides, built once per process (or cold start). */
export interface AuthServices {
  /** Checks each registry request's bearer token (createRegistry's `authorizer`). */
  authorizer: Authorizer;
  /** The token server: `/token` and `/token/jwks`. */
  tokenEndpoint: FetchHandler;
  admin: IdentityAdmin;
  keys: SigningKeys;
  refreshTokens: RefreshTokens;
  storage: AuthStorage;
  secrets: SecretProvider;
  bootstrap: BootstrapResult;
}

/** Wires authentication from configuration: Table storage, the secret provider, keys, tokens. */
export async function createAuth(config: Config, options: AuthOptions): Promise<AuthServices> {
  const auth = config.auth;
  const now = options.now ?? Date.now;
  const [storage, secrets] = await Promise.all([
    createAzureAuthStorage({ connectionString: options.connectionString, tablePrefix: config.tablePrefix }),
    options.secrets ?? createSecretProvider(auth),
  ]);
  const names = secretNames(auth);
  const settings: TokenSettings = { issuer: auth.issuer, service: auth.service, ttlSeconds: auth.tokenTtlSeconds };
  const keys = new SigningKeys(secrets, { secretName: names.signingKey, tokenTtlSeconds: auth.tokenTtlSeconds, now });
  const throttle = new LoginThrottle(
    storage.loginFailures,
    { maxFailures: auth.loginMaxFailures, lockoutSeconds: auth.loginLockoutSeconds },
    now,
  );
  const refreshTokens = new RefreshTokens(storage.refreshTokens, auth.refreshTokenTtlSeconds, now);
  const admin = new IdentityAdmin(storage);
  const anonymous = auth.anonymousPull.length > 0 ? anonymousIdentity(auth.anonymousPull) : undefined;
  const urls = { publicUrl: auth.publicUrl, trustProxy: auth.trustProxy };

  const bootstrap = await bootstrapAdmin(admin, secrets, {
    password: auth.adminPassword,
    secretName: names.adminPassword,
  });
  // load (or create) the signing keys now, so the first request does not wait for the vault
  await keys.jwks();

  const tokenEndpoint = createTokenEndpoint({
    ...urls,
    settings,
    authenticator: new Authenticator(storage.identities, throttle, now),
    refreshTokens,
    issuer: new TokenIssuer(keys, settings, now),
    keys,
    anonymous,
    ...(options.observe ? { observe: options.observe } : {}),
  });
  const authorizer = new BearerAuthorizer(new TokenVerifier(keys, settings, now), {
    ...urls,
    settings,
    anonymousRules: anonymous?.rules ?? [],
  });
  return { authorizer, tokenEndpoint, admin, keys, refreshTokens, storage, secrets, bootstrap };
}
