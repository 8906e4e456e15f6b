import type { AccessRequest } from "../auth/access.js";
import { bootstrapAdmin, type BootstrapResult } from "../auth/admin-bootstrap.js";
import { ANONYMOUS, anonymousIdentity, Authenticator } from "../auth/identities.js";
import { IdentityAdmin } from "../auth/identity-admin.js";
import { LoginThrottle } from "../auth/login-throttle.js";
import { RefreshTokens } from "../auth/refresh-tokens.js";
import { SigningKeys } from "../auth/signing-keys.js";
import { TokenIssuer } from "../auth/token-issuer.js";
import { TokenService } from "../auth/token-service.js";
import type { TokenSettings } from "../auth/token-settings.js";
import { TokenVerifier } from "../auth/token-verifier.js";
import { notifyingRegistry } from "../events/notifying-registry.js";
import type { RegistryEvent } from "../events/registry-event.js";
import { adminRoutes } from "../http/api/admin-routes.js";
import { createApiApp } from "../http/api/api-app.js";
import type { ApiRoute } from "../http/api/api-route.js";
import { routeByPath } from "../http/app-router.js";
import { browseRoutes } from "../http/api/browse-routes.js";
import type { Authorizer } from "../http/authorizer.js";
import { BearerAuthorizer } from "../http/bearer-authorizer.js";
import { lazyHandler } from "../http/lazy-handler.js";
import type { FetchHandler, RequestObserver } from "../http/fetch-handler.js";
import { createRegistryApp, type RegistryForRequest } from "../http/registry/registry-app.js";
import { createTokenApp } from "../http/token/token-app.js";
import { BrowseService } from "../registry/browse-service.js";
import { RegistryService } from "../registry/registry-service.js";
import { defaultAzureCredential } from "../storage/azure/azure-credential.js";
import { connectAzureStorage, type AzureStorage, type StorageConnection } from "../storage/azure/azure-storage.js";
import type { MessageReceiver, MessageSender } from "../storage/ports/message-queue.js";
import type { SecretStore } from "../storage/ports/secret-store.js";
import { DeadLetters } from "../webhooks/dead-letters.js";
import { deliveryQueueName, type DeliveryTask } from "../webhooks/delivery-task.js";
import { SubscriptionDirectory } from "../webhooks/subscriptions.js";
import { WebhookService } from "../webhooks/webhook-service.js";
import { ConfigError, type Config } from "./config.js";
import { openSecretStore, secretNames } from "./secret-store.js";

export interface AppOptions {
  /** Storage instead of the configured connection (the Node server's embedded Azurite, the CLI's). */
  connectionString?: string;
  /** Who may do what on the registry instead of Docker token auth (the protocol tests: open access). */
  authorizer?: Authorizer;
  /** Where secrets live instead of the configured store (tests: a temporary directory). */
  secrets?: SecretStore;
  /** The clock of every part that keeps time (tests move it instead of sleeping). */
  now?: () => number;
  /** Where background work reports (webhook delivery). */
  log?: (line: string) => void;
  /** Sees every answered HTTP request (the access log). */
  observe?: RequestObserver;
}

/** Authentication, as the CLI and the start-up need it. */
export interface AuthParts {
  admin: IdentityAdmin;
  keys: SigningKeys;
  tokens: TokenService;
  secrets: SecretStore;
}

/** The delivery side of webhooks, as the pollers, the queue triggers and the CLI need it. */
export interface WebhookParts {
  service: WebhookService;
  directory: SubscriptionDirectory;
  deadLetters: DeadLetters;
  /** The queue every registry event goes to (fanned out to subscriptions from there). */
  events: MessageReceiver & MessageSender<RegistryEvent>;
  /** One task per event and subscription, retried on its own. */
  deliveries: MessageReceiver & MessageSender<DeliveryTask>;
}

/** Everything a process needs, built once from the configuration. */
export interface App {
  readonly config: Config;
  /** Every HTTP endpoint this process serves (registry `/v2/`, token `/token`). */
  readonly handle: FetchHandler;
  readonly registry: RegistryService;
  readonly auth: AuthParts;
  readonly webhooks: WebhookParts;
  readonly storage: AzureStorage;
  /**
   * What a deployment's first start needs: the `admin` user (while no identity exists) and a
   * signing key; loads the keys so the first request does not wait for the vault.
   */
  prepare(): Promise<BootstrapResult>;
}

/** The one composition root: Azure storage -> domain services -> HTTP apps, with their decorators. */
export async function buildApp(config: Config, options: AppOptions = {}): Promise<App> {
  const now = options.now ?? Date.now;
  const log = options.log ?? ((line: string) => console.log(line));
  const storage = connectAzureStorage({
    ...(await storageConnection(config, options.connectionString)),
    container: config.container,
    tablePrefix: config.tablePrefix,
    apiVersion: config.storageApiVersion,
  });
  const [secrets] = await Promise.all([options.secrets ?? openSecretStore(config.auth), storage.ensureCreated()]);

  const registry = new RegistryService(storage.registry, {
    blockSize: config.blockSize,
    concurrency: config.concurrency,
    redirect: config.blobRedirect,
    redirectTtlSeconds: config.redirectTtlSeconds,
    maxManifestBytes: config.maxManifestBytes,
    maxManifestReferences: config.maxManifestReferences,
    maxPageSize: config.maxPageSize,
    autoMount: config.autoMount,
    uploadTtlMs: config.uploadTtlMs,
    maxUploadsPerRepository: config.maxUploadsPerRepository,
    now,
  });
  const events = storage.queue<RegistryEvent>(config.events.queue);
  const deliveries = storage.queue<DeliveryTask>(deliveryQueueName(config.events.queue));
  const auth = buildAuth(config, storage, secrets, now);
  const webhooks = buildWebhooks(config, storage, { events, deliveries }, log);

  const urls = { publicUrl: config.auth.publicUrl, trustProxy: config.auth.trustProxy };
  const registryApp = createRegistryApp(withEvents(registry, config, events), {
    ...urls,
    chunks: { min: 1, max: config.chunkMaxBytes },
    deleteEnabled: config.deleteEnabled,
    authorizer: options.authorizer ?? auth.authorizer,
    ...(options.observe ? { observe: options.observe } : {}),
  });
  // each feature contributes its endpoints of the JSON API here
  const apiRoutes: ApiRoute[] = [
    ...browseRoutes({
      browse: new BrowseService(storage.browse, storage.registry.metadata, {
        maxPageSize: config.maxPageSize,
        statsRowLimit: 1000,
      }),
      rulesOf: async ({ subject }) =>
        subject === undefined || subject === ANONYMOUS
          ? auth.anonymousRules
          : ((await auth.authenticator.current(subject))?.rules ?? []),
    }),
    ...adminRoutes({ identities: auth.admin, webhooks, now }),
  ];
  const apiApp = createApiApp(apiRoutes, {
    authorizer: options.authorizer ?? auth.authorizer,
    ...(options.observe ? { observe: options.observe } : {}),
  });
  const tokenApp = createTokenApp({
    ...urls,
    tokens: auth.tokens,
    keys: auth.keys,
    service: config.auth.service,
    ...(options.observe ? { observe: options.observe } : {}),
  });

  // the web UI's module is imported on its first request: the registry's cold start skips it
  const uiApp = lazyHandler(async () =>
    (await import("../http/ui/ui-app.js")).createUiApp(options.observe ? { observe: options.observe } : {}),
  );

  return {
    config,
    handle: routeByPath({ token: tokenApp, api: apiApp, ui: uiApp, registry: registryApp }),
    registry,
    auth,
    webhooks,
    storage,
    async prepare() {
      const bootstrap = await bootstrapAdmin(auth.admin, storage.auth.bootstrap, secrets, {
        password: config.auth.adminPassword,
        secretName: secretNames(config.auth).adminPassword,
      });
      await auth.keys.jwks();
      return bootstrap;
    },
  };
}

/** A connection string (given, or configured), else the configured account with DefaultAzureCredential. */
async function storageConnection(config: Config, given: string | undefined): Promise<StorageConnection> {
  const connectionString = given ?? config.connectionString;
  if (connectionString) return { connectionString };
  if (!config.storageAccount) {
    throw new ConfigError("neither STOWAGE_STORAGE_CONNECTION_STRING nor STOWAGE_STORAGE_ACCOUNT is set");
  }
  return { account: { ...config.storageAccount, credential: await defaultAzureCredential() } };
}

/** Events, when any action is recorded: a notifying wrapper around the registry, per request. */
function withEvents(registry: RegistryService, config: Config, sink: MessageSender<RegistryEvent>): RegistryForRequest {
  if (config.events.actions.length === 0) return () => registry;
  const options = { sink, actions: new Set(config.events.actions), blobTransfers: config.events.blobTransfers };
  return (origin) => notifyingRegistry(registry, origin, options);
}

function buildAuth(config: Config, storage: AzureStorage, secrets: SecretStore, now: () => number) {
  const auth = config.auth;
  const settings: TokenSettings = { issuer: auth.issuer, service: auth.service, ttlSeconds: auth.tokenTtlSeconds };
  const keys = new SigningKeys(secrets, {
    secretName: secretNames(auth).signingKey,
    tokenTtlSeconds: auth.tokenTtlSeconds,
    now,
  });
  const throttle = new LoginThrottle(
    storage.auth.loginFailures,
    storage.auth.familiarAddresses,
    { maxFailures: auth.loginMaxFailures, lockoutSeconds: auth.loginLockoutSeconds },
    now,
  );
  const anonymous = auth.anonymousPull.length > 0 ? anonymousIdentity(auth.anonymousPull) : undefined;
  const authenticator = new Authenticator(storage.auth.identities, throttle, now);
  const tokens = new TokenService({
    authenticator,
    refreshTokens: new RefreshTokens(storage.auth.refreshTokens, auth.refreshTokenTtlSeconds, now),
    issuer: new TokenIssuer(keys, settings, now),
    anonymous,
  });
  const anonymousRules: AccessRequest[] = anonymous?.rules ?? [];
  const authorizer = new BearerAuthorizer(new TokenVerifier(keys, settings, now), {
    publicUrl: auth.publicUrl,
    trustProxy: auth.trustProxy,
    settings,
    anonymousRules,
    login: (name, secret, address) => authenticator.login(name, secret, address),
  });
  return { admin: new IdentityAdmin(storage.auth), keys, tokens, secrets, authorizer, authenticator, anonymousRules };
}

function buildWebhooks(
  config: Config,
  storage: AzureStorage,
  queues: Pick<WebhookParts, "events" | "deliveries">,
  log: (line: string) => void,
): WebhookParts {
  const directory = new SubscriptionDirectory(config.webhooks.subscriptions, storage.webhooks.subscriptions);
  const deadLetters = new DeadLetters(storage.webhooks.deadLetters);
  const service = new WebhookService({
    directory,
    deliveries: queues.deliveries,
    deadLetters,
    retry: config.webhooks.retry,
    defaultTimeoutMs: config.webhooks.timeoutMs,
    log,
  });
  return { service, directory, deadLetters, ...queues };
}
