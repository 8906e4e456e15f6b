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
import { lifecycleRoutes } from "../http/api/lifecycle-routes.js";
import { routeByPath } from "../http/app-router.js";
import { browseRoutes } from "../http/api/browse-routes.js";
import type { Authorizer } from "../http/authorizer.js";
import { BearerAuthorizer } from "../http/bearer-authorizer.js";
import { lazyHandler } from "../http/lazy-handler.js";
import type { FetchHandler, RequestObserver } from "../http/fetch-handler.js";
import { createRegistryApp, type RegistryForRequest } from "../http/registry/registry-app.js";
import { createTokenApp } from "../http/token/token-app.js";
import { BrowseService } from "../registry/browse-service.js";
import { observeRequests } from "../http/observed-requests.js";
import { createOpsApp } from "../http/ops-app.js";
import { HmacSealer } from "../lib/hmac-sealer.js";
import type { LogWriter } from "../lib/log-writer.js";
import type { Metrics } from "../observability/metrics.js";
import { auditedIdentityAdmin, observedTokens } from "../observability/observed-auth.js";
import { auditedRegistry, meteredRegistry } from "../observability/observed-registry.js";
import { agedQueue, auditedSubscriptions, countedEvents, meteredWebhooks } from "../observability/observed-webhooks.js";
import { readiness } from "../observability/readiness.js";
import { LifecycleService } from "../registry/lifecycle-service.js";
import { RegistryService, type Registry } from "../registry/registry-service.js";
import { defaultAzureCredential } from "../storage/azure/azure-credential.js";
import { connectAzureStorage, type AzureStorage, type StorageConnection } from "../storage/azure/azure-storage.js";
import type { MessageReceiver, MessageSender } from "../storage/ports/message-queue.js";
import type { SecretStore } from "../storage/ports/secret-store.js";
import { DeadLetters } from "../webhooks/dead-letters.js";
import { EventInterest, SUBSCRIPTIONS_MAX_AGE_MS, subscribedEvents } from "../webhooks/event-interest.js";
import { deliveryQueueName, type DeliveryTask } from "../webhooks/delivery-task.js";
import { SubscriptionDirectory } from "../webhooks/subscriptions.js";
import { WebhookService } from "../webhooks/webhook-service.js";
import { ConfigError, type Config } from "./config.js";
import { buildObservability, type Observability } from "./observability.js";
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
  /** Sees every answered HTTP request (tests). */
  observe?: RequestObserver;
  /** Where structured log and audit lines go (default: the console, in STOWAGE_LOG_FORMAT). */
  logs?: LogWriter;
  /** Log every request, not only server errors (the Node server, per STOWAGE_ACCESS_LOG). */
  accessLog?: boolean;
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
  /** Garbage collection, retention, repository deletion and usage. */
  readonly lifecycle: LifecycleService;
  readonly auth: AuthParts;
  readonly webhooks: WebhookParts;
  readonly storage: AzureStorage;
  /** Undefined when STOWAGE_METRICS=off; jobs report through it (`gcRun`, `gcItems`). */
  readonly metrics: Metrics | undefined;
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
  const observability = await buildObservability(config, options);
  const { metrics, audit } = observability;
  const storage = connectAzureStorage({
    ...(await storageConnection(config, options.connectionString)),
    container: config.container,
    tablePrefix: config.tablePrefix,
    apiVersion: config.storageApiVersion,
    observeCalls: observability.storageCalls,
  });
  const [secrets, bootstrapped] = await Promise.all([
    options.secrets ?? openSecretStore(config.auth),
    createdOnce(storage),
  ]);
  const auth = buildAuth(config, storage, secrets, now, observability);

  const service = new RegistryService(storage.registry, {
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
    // upload URLs carry their state sealed with keys every instance derives from the signing keys
    sealer: new HmacSealer(auth.keys.macKeys("stowage upload state v1")),
  });
  const registry = metrics ? meteredRegistry(service, metrics) : service;
  const queued = (queue: ReturnType<typeof storage.queue<never>>, label: string) =>
    metrics ? agedQueue(queue, label, metrics, Date.now) : queue;
  const events = queued(storage.queue<RegistryEvent>(config.events.queue), "events");
  const deliveries = queued(storage.queue<DeliveryTask>(deliveryQueueName(config.events.queue)), "deliveries");
  const webhooks = buildWebhooks(config, storage, { events, deliveries }, log, observability);
  // an event no subscription wants is not queued (the fan-out would only drop it)
  const interest = new EventInterest(webhooks.directory, { maxAgeMs: SUBSCRIPTIONS_MAX_AGE_MS, now });
  const eventSink = subscribedEvents(metrics ? countedEvents(events, metrics) : events, interest);
  const observe = observability.appObserver;
  const lifecycle = new LifecycleService({ ...storage.registry, collection: storage.collection }, service.uploads, {
    ...config.gc,
    uploadTtlMs: config.uploadTtlMs,
    now,
    forget: (repository, digest) => service.manifests.forget(repository, digest),
  });

  const urls = { publicUrl: config.auth.publicUrl, trustProxy: config.auth.trustProxy };
  // audited inside the events: a delete is in the audit trail once stored, whether or not its
  // event publishes (a manifest PUT queues its event inside the put, and fails with it)
  const audited = audit ? auditedRegistry(registry, audit) : registry;
  const registryApp = createRegistryApp(withEvents(audited, config, eventSink), {
    ...urls,
    chunks: { min: 1, max: config.chunkMaxBytes },
    deleteEnabled: config.deleteEnabled,
    authorizer: options.authorizer ?? auth.authorizer,
    observe,
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
    ...lifecycleRoutes(lifecycle, { deleteEnabled: config.deleteEnabled }),
  ];
  const apiApp = createApiApp(apiRoutes, {
    authorizer: options.authorizer ?? auth.authorizer,
    observe,
  });
  const tokenApp = createTokenApp({
    ...urls,
    tokens: auth.tokens,
    keys: auth.keys,
    service: config.auth.service,
    observe,
  });
  const opsApp = createOpsApp({
    readiness: readiness(
      {
        storage: (signal) => storage.probe(signal),
        ...(config.auth.keyVault ? { keyVault: () => secrets.versions(secretNames(config.auth).signingKey) } : {}),
      },
      { timeoutMs: config.observability.readyTimeoutMs, cacheMs: READY_CACHE_MS, now: Date.now },
    ),
    ...(observability.exposure ? { metrics: observability.exposure } : {}),
    observe,
  });

  // the web UI's module is imported on its first request: the registry's cold start skips it
  const uiApp = lazyHandler(async () => (await import("../http/ui/ui-app.js")).createUiApp({ observe }));

  return {
    config,
    handle: observeRequests(
      routeByPath({ token: tokenApp, api: apiApp, ops: opsApp, ui: uiApp, registry: registryApp }),
      {
        trustProxy: config.auth.trustProxy,
        observers: observability.requestObservers,
      },
    ),
    registry,
    lifecycle,
    auth,
    webhooks,
    storage,
    metrics,
    async prepare() {
      // the marker is never unset: seen set at start, there is nothing to bootstrap (one read, not two)
      const bootstrap: BootstrapResult = bootstrapped
        ? { created: false }
        : await bootstrapAdmin(auth.admin, storage.auth.bootstrap, secrets, {
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

/** How long a `/readyz` answer is reused (probes from many places cost storage one call per period). */
const READY_CACHE_MS = 1500;

/**
 * The tables are created by a deployment's first start, before its bootstrap marker is set:
 * once the marker is there, a start costs one read instead of five creates.
 * Resolves whether the marker was set.
 */
async function createdOnce(storage: AzureStorage): Promise<boolean> {
  const bootstrapped = await storage.auth.bootstrap.isSet().catch(() => false);
  if (!bootstrapped) await storage.ensureCreated();
  return bootstrapped;
}

/** Events, when any action is recorded: a notifying wrapper around the registry, per request. */
function withEvents(registry: Registry, config: Config, sink: MessageSender<RegistryEvent>): RegistryForRequest {
  if (config.events.actions.length === 0) return () => registry;
  const options = { sink, actions: new Set(config.events.actions), blobTransfers: config.events.blobTransfers };
  return (origin) => notifyingRegistry(registry, origin, options);
}

function buildAuth(
  config: Config,
  storage: AzureStorage,
  secrets: SecretStore,
  now: () => number,
  { metrics, audit }: Observability,
) {
  const auth = config.auth;
  const settings: TokenSettings = { issuer: auth.issuer, service: auth.service, ttlSeconds: auth.tokenTtlSeconds };
  const keys = new SigningKeys(secrets, {
    secretName: secretNames(auth).signingKey,
    tokenTtlSeconds: auth.tokenTtlSeconds,
    // a replaced key still opens the upload URLs it sealed, for as long as those uploads live
    retainSeconds: config.uploadTtlMs / 1000,
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
  const tokenService = new TokenService({
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
  const tokens = metrics || audit ? observedTokens(tokenService, { metrics, audit }) : tokenService;
  const identityAdmin = new IdentityAdmin(storage.auth);
  const admin = audit ? auditedIdentityAdmin(identityAdmin, audit) : identityAdmin;
  return { admin, keys, tokens, secrets, authorizer, authenticator, anonymousRules };
}

function buildWebhooks(
  config: Config,
  storage: AzureStorage,
  queues: Pick<WebhookParts, "events" | "deliveries">,
  log: (line: string) => void,
  { metrics, audit }: Observability,
): WebhookParts {
  const subscriptions = new SubscriptionDirectory(config.webhooks.subscriptions, storage.webhooks.subscriptions);
  const directory = audit ? auditedSubscriptions(subscriptions, audit) : subscriptions;
  const deadLetters = new DeadLetters(storage.webhooks.deadLetters);
  const delivery = new WebhookService({
    directory,
    deliveries: queues.deliveries,
    deadLetters,
    retry: config.webhooks.retry,
    defaultTimeoutMs: config.webhooks.timeoutMs,
    log,
  });
  const service = metrics ? meteredWebhooks(delivery, metrics) : delivery;
  return { service, directory, deadLetters, ...queues };
}
