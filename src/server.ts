import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import Koa, { type Middleware } from 'koa';
import type { Provider } from 'oidc-provider';
import type { Logger } from 'pino';
import { startAdminListener } from './admin/admin-listener.ts';
import { createApp } from './app.ts';
import { logAuthenticationDevice, type TriggerAuthenticationDevice } from './ciba/authentication-device.ts';
import { backchannelHooks } from './ciba/backchannel-hooks.ts';
import { decoupledAuthorisationDevice } from './ciba/decoupled-authorisation.ts';
import { sweepDecoupledRequests } from './ciba/decoupled-repository.ts';
import { guardCibaPolling } from './ciba/poll-guard.ts';
import { type Config, ConfigError, plannedListeners } from './config.ts';
import { ensureDataDir } from './db/data-dir.ts';
import { setUpDashboard } from './dashboard/dashboard.ts';
import { sweepDashboardSessions } from './dashboard/session-service.ts';
import { type AccountDirectory, postgresAccountDirectory } from './customers/account-directory.ts';
import { createCustomerAuthentication } from './customers/authentication.ts';
import { sweepLoginThrottle } from './customers/login-throttle.ts';
import { loadTotpKey } from './customers/totp-key.ts';
import { createWorkLimiter } from './customers/work-limiter.ts';
import { connectDatabase, poolStats, servedByTransactionPooler, waitForDatabase, type Db } from './db/connect.ts';
import { lockEmbeddedDatabase } from './db/embedded-lock.ts';
import { migrateToLatest } from './db/migrate.ts';
import { databaseKnowsTimeZone } from './consents/consent-access-repository.ts';
import { seedDemoConsents } from './demo/demo-consents.ts';
import { seedDemo } from './demo/seed.ts';
import { createClientCertificateReader } from './http/client-certificate.ts';
import { createCsrf } from './http/csrf.ts';
import { ensureDevPki } from './http/dev-pki.ts';
import { eidasTppMiddleware, loadServerEidasTrust } from './tpp/eidas-middleware.ts';
import { checkPortsFree, describeListenFailure } from './http/listen-check.ts';
import { httpsOptions, parseCertificateBundle, readOptional, type TlsMaterial } from './http/tls.ts';
import { createViews } from './http/views.ts';
import { customerPages } from './oidc/customer-pages.ts';
import { OwnConnections, trustedProxyCheck } from './http/trusted-proxies.ts';
import { createIntrospectionUses } from './consents/consent-use.ts';
import { countConsentsByTypeAndStatus, expireDueConsents, sweepOrphanGrants } from './consents/consent-service.ts';
import { sweepSettledEvents } from './events/event-retention.ts';
import { startEventDelivery } from './events/push-delivery.ts';
import { sweepScaProgress } from './interactions/sca-progress-repository.ts';
import { sweepExpired } from './store/adapter.ts';
import { watchSigningKeys } from './oidc/key-rotation.ts';
import { loadServerKeys } from './oidc/keys.ts';
import { createOutboundFetch } from './http/outbound-fetch.ts';
import { createProvider, modelFind, PAR_LIFETIME_SECONDS } from './oidc/provider.ts';
import { ENGINE_PATHS } from './protocol/routes.ts';
import { Lifecycle } from './lifecycle.ts';
import { listeningClientCache, noClientCache, pollingClientCache } from './store/client-cache.ts';
import { returnGrantId } from './grants/grant-token-response.ts';
import { ensureDevDirectory } from './tpp/dev-directory.ts';
import { tppRegistration } from './tpp/registration-middleware.ts';
import { createDirectoryKeyring } from './tpp/trusted-directories.ts';
import { createMetrics } from './ops/metrics.ts';
import { countOutboundRefusals, countSignIns } from './monitoring/observed.ts';
import { createSecurityEventDelivery, SECURITY_EVENT_TYP } from './monitoring/security-event-delivery.ts';
import { createSecurityEvents } from './monitoring/security-events.ts';
import { signWithServerKey } from './oidc/server-signing.ts';
import { deleteEndedWindows } from './ops/rate-limit-repository.ts';
import { opsRouter } from './ops/ops-router.ts';
import { adminOpenApiDocument, openApiDocument } from './openapi/document.ts';

export interface RunningAssent {
  issuer: string;
  provider: Provider;
  /** The public listener's Koa app: its routers are what the API inventory test enumerates. */
  app: Koa;
  port: number;
  db: Db;
  /** Where dev mode wrote the demo customer's and TPP's credentials, when it seeded them. */
  demoDirectory: string | undefined;
  /** Dev mode: the demo customer's TOTP enrolment, for the start-up banner. */
  demoTotp: { secret: string; otpauthUri: string } | undefined;
  /** The internal listener's port, when OPS_PORT is set. */
  opsPort: number | undefined;
  /** The admin API's base URL, when it is on. */
  adminUrl: string | undefined;
  /** Runs the periodic sweeps once, now, and waits for them (what SWEEP_INTERVAL runs in the background). */
  sweepNow(): Promise<SweepCounts>;
  close(): Promise<void>;
}

/** The server's certificate and the CAs its clients' certificates may come from; in dev mode, the dev CA too. */
type ServerTls = TlsMaterial & { devCa?: { certPem: string; keyPem: string } };

async function tlsMaterial(config: Config): Promise<ServerTls> {
  const clientCaPem = await readOptional(config.tls.clientCaFile);
  if (config.tls.certFile && config.tls.keyFile) {
    return { certPem: (await readOptional(config.tls.certFile))!, keyPem: (await readOptional(config.tls.keyFile))!, clientCaPem };
  }
  const pki = await ensureDevPki(config.dataDir);
  return {
    certPem: pki.server.certPem,
    keyPem: pki.server.keyPem,
    clientCaPem: [clientCaPem, pki.ca.certPem].filter(Boolean).join('\n'),
    devCa: pki.ca,
  };
}

function listen(server: http.Server | net.Server, host: string, port: number) {
  return new Promise<AddressInfo>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server.address() as AddressInfo));
  });
}

/**
 * The port to listen on once ready. Port 0 (tests) asks the system for a free one now, since the issuer
 * and the dashboard's loopback client need the number before the listener may open, and holds it until
 * the listener takes it over: released only then, no other process can take it in between.
 */
async function reservePort(host: string, port: number): Promise<{ port: number; release(): Promise<void> }> {
  if (port !== 0) return { port, release: async () => {} };
  const probe = net.createServer();
  probe.maxConnections = 0; // a connection before the real listener opens is dropped, never left hanging
  const { port: free } = await listen(probe, host, 0);
  return { port: free, release: () => new Promise((resolve) => probe.close(() => resolve())) };
}

/** Expired oidc-provider artefacts, SCA progress of finished interactions, stale lockout and rate-limit counters, dashboard sessions, old decoupled requests. */
async function sweepAll(db: Db, config: Config): Promise<number> {
  return (
    (await sweepExpired(db)) +
    (await sweepScaProgress(db)) +
    (await sweepLoginThrottle(db, new Date())) +
    (await deleteEndedWindows(db)) +
    (await sweepDashboardSessions(db, config.dashboard)) +
    (await sweepSettledEvents(db)) +
    (await sweepDecoupledRequests(db))
  );
}

/** What one run of the periodic sweeps deleted or ended: rows of sweepAll, consents expired, orphan grants. */
export interface SweepCounts {
  rows: number;
  expiredConsents: number;
  orphanGrants: number;
}

/**
 * One run of the periodic sweeps. Each runs and is logged on its own, so one that fails holds up none
 * of the others; a caller that waits (a test that moves the clock) gets the counts, or the first failure.
 */
async function sweepOnce(db: Db, config: Config, logger: Logger): Promise<SweepCounts> {
  const logged = (sweep: Promise<number>, done: (count: number) => void, failed: string) =>
    sweep.then(
      (count) => {
        if (count > 0) done(count);
        return count;
      },
      (error: unknown) => {
        logger.warn({ err: error }, failed);
        throw error;
      },
    );
  const results = await Promise.allSettled([
    logged(sweepAll(db, config), (deleted) => logger.debug({ deleted }, 'expired rows swept'), 'sweep of expired rows failed'),
    logged(expireDueConsents(db), (expired) => logger.info({ expired }, 'consents expired'), 'consent expiry sweep failed'),
    logged(
      sweepOrphanGrants(db),
      (orphans) => logger.warn({ orphans }, 'grants left without their consent swept'),
      'orphan grant sweep failed',
    ),
  ]);
  const [rows, expiredConsents, orphanGrants] = results.map((result) => {
    if (result.status === 'rejected') throw result.reason;
    return result.value;
  });
  return { rows: rows!, expiredConsents: expiredConsents!, orphanGrants: orphanGrants! };
}

/**
 * Stops accepting connections and lets in-flight requests finish: idle keep-alive connections are
 * closed as they become idle, and whatever still runs after the grace period is cut.
 */
async function drain(server: http.Server, graceMs: number) {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const idleSweep = setInterval(() => server.closeIdleConnections(), 50);
  const deadline = setTimeout(() => server.closeAllConnections(), graceMs);
  await closed;
  clearInterval(idleSweep);
  clearTimeout(deadline);
}

export interface StartOptions {
  /** The bank's account directory (its core banking); Assent's own Postgres accounts when absent. */
  accounts?: AccountDirectory;
  /**
   * The bank's push channel for decoupled (CIBA) requests: told of each request for one of its
   * customers, to wake the customer's app (src/ciba/authentication-device.ts). Dev mode logs them
   * when absent; otherwise customers find them on the dashboard.
   */
  triggerAuthenticationDevice?: TriggerAuthenticationDevice;
  /** Tracing's request middleware (ops/tracing.ts), when OTEL_* turned tracing on. */
  requestTracing?: Middleware;
}

/** Embedded lock (PGlite) -> pool -> the database answering (through the pooler configured) -> migrations. */
async function openDatabase(config: Config, logger: Logger, life: Lifecycle): Promise<Db> {
  if (!config.databaseUrl)
    life.started('embedded database lock', await lockEmbeddedDatabase(config.dataDir, 'server'), (release) => release());
  const db = life.started('database pool', await connectDatabase(config, { logger }), (pool) => pool.destroy());
  await waitForDatabase(db, logger, config.startupWaitSeconds * 1000);
  if (config.pooler === 'session' && (await servedByTransactionPooler(db)))
    throw new ConfigError(
      'DATABASE_URL leads through a transaction pooler (two connections were answered by one Postgres session): set DATABASE_POOLER=transaction',
    );
  const applied = await migrateToLatest(db);
  if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');
  const zone = config.branding.timeZone;
  // Node accepted the name (config.ts); the bank's day is Postgres's reading of it (consent accesses).
  if (!(await databaseKnowsTimeZone(db, zone)))
    throw new ConfigError(`BANK_TIME_ZONE must be a time zone the database knows by name, e.g. Europe/Berlin (got "${zone}")`);
  return db;
}

/** Whether the public listener serves: readiness says so, and a drain begins by saying it no longer does. */
type Serving = { now: boolean };

/**
 * The service itself, built on an open database: keys, the provider with its hooks, the customer-facing
 * collaborators and the Koa apps (public and, with OPS_PORT, internal). Parts that hold something open
 * (caches, watchers) are recorded in `life` as they start.
 */
async function assemble(
  config: Config,
  logger: Logger,
  options: StartOptions,
  life: Lifecycle,
  base: { db: Db; tls: ServerTls; issuer: string; port: number; serving: Serving },
) {
  const { db, tls, issuer, port } = base;
  const keys = await loadServerKeys(db, config);
  const forwardedTrust = config.tls.terminatedByProxy
    ? { isTrustedProxy: trustedProxyCheck(config.tls.trustedProxies), ownConnections: new OwnConnections() }
    : undefined;
  const metrics = createMetrics({ poolStats: () => poolStats(db), consentCounts: () => countConsentsByTypeAndStatus(db) });
  const securityEvents = life.started('security events', createSecurityEvents({ logger, metrics, cookieKey: keys.cookie[0]! }), (events) =>
    events.close(),
  );
  const presentedCertificate = createClientCertificateReader({
    terminatedByProxy: config.tls.terminatedByProxy,
    header: config.tls.clientCertHeader,
    trustedProxies: config.tls.trustedProxies,
    trustedCas: parseCertificateBundle(tls.clientCaPem),
  });
  const eidasTrust = await loadServerEidasTrust(config, logger);
  const eidasTpp = eidasTppMiddleware({
    db,
    trust: eidasTrust,
    presentedCertificate,
    signedRequests: config.eidas.signedRequests,
  });
  const outbound = countOutboundRefusals(
    createOutboundFetch({ ...config.outbound, extraCaPem: config.devMode ? tls.devCa?.certPem : undefined }),
    securityEvents,
  );
  const views = createViews({ branding: config.branding, dashboardUrl: new URL('/dashboard', issuer).href });
  const clientCache = life.started(
    'client cache',
    !config.databaseUrl
      ? noClientCache
      : config.pooler === 'transaction'
        ? pollingClientCache(db, logger)
        : listeningClientCache(config.databaseUrl, logger),
    (cache) => cache.close(),
  );
  const triggerDevice = options.triggerAuthenticationDevice ?? (config.devMode ? logAuthenticationDevice(logger) : async () => {});
  // Stopped after the public listener's drain (started before it): the last requests' introspections are written.
  const introspectionUses = life.started('introspection uses', createIntrospectionUses(db, logger), (uses) => uses.close());
  const find = modelFind(db);
  const provider = createProvider({
    find,
    issuer,
    db,
    introspectionUses,
    keys,
    presentedCertificate,
    eidasTrust,
    outbound,
    ttl: config.ttl,
    refreshTokenRotation: config.refreshTokenRotation,
    dpopNonces: config.dpopNonces,
    clientCache,
    onRefusedClient: (clientId) => securityEvents.refusedClient(clientId),
    pages: customerPages(views, PAR_LIFETIME_SECONDS),
    ciba: {
      hooks: backchannelHooks({ db, logger, trigger: triggerDevice, pollIntervalSeconds: config.ciba.pollIntervalSeconds }),
      requestLifetimeSeconds: config.ciba.requestLifetimeSeconds,
    },
  });
  guardCibaPolling(provider, db, config.ciba.pollIntervalSeconds);
  securityEvents.watchProvider(provider);
  if (config.securityEvents) {
    const delivery = createSecurityEventDelivery({
      settings: config.securityEvents,
      outbound,
      issuer,
      sign: (claims) => signWithServerKey(provider, claims, SECURITY_EVENT_TYP),
      logger,
    });
    securityEvents.forwardTo((event) => delivery.deliver(event));
  }
  const directories = [...config.tpp.trustedDirectories, ...(config.tpp.devDirectory ? [await ensureDevDirectory(config.dataDir)] : [])];
  const keyring = createDirectoryKeyring(directories, outbound, config.tpp.directoryRefreshSeconds);
  provider.use(returnGrantId);
  provider.use(tppRegistration({ db, issuer, keyring, outbound, presentedCertificate, path: ENGINE_PATHS.registration }));
  const totpKey = await loadTotpKey(db, { devMode: config.devMode, configured: config.sca.totpEncryptionKey });
  const demo = config.seedDemo && tls.devCa ? await seedDemo(db, config.dataDir, tls.devCa, totpKey, config.branding.bankName) : undefined;
  if (demo) await seedDemoConsents(db, provider);

  const authentication = countSignIns(
    createCustomerAuthentication({
      db,
      totpKey,
      lockoutSeconds: config.sca.lockoutSeconds,
      passwordWork: createWorkLimiter({ concurrency: config.sca.passwordHashConcurrency, queue: config.sca.passwordHashQueue }),
    }),
    securityEvents,
  );
  // The seam where a bank's core banking plugs in: who owns which account, for the consent pages and the dashboard.
  const accounts = options.accounts ?? postgresAccountDirectory(db);
  const dashboard = await setUpDashboard({
    db,
    accounts,
    issuer,
    sessions: config.dashboard,
    listener: {
      host: config.host,
      port,
      certificatePem: config.tls.terminatedByProxy ? undefined : tls.certPem,
      ownConnections: forwardedTrust?.ownConnections,
    },
  });

  let signingKeyCount = keys.signing.length;
  const keyWatch = config.signingKeysFile
    ? undefined
    : life.started(
        'signing key watch',
        watchSigningKeys({
          db,
          provider,
          initial: keys.signing,
          intervalSeconds: config.keyRotation.refreshIntervalSeconds,
          logger,
          onChange: (signing) => {
            signingKeyCount = signing.length;
          },
        }),
        (watch) => watch.stop(),
      );

  const ops = opsRouter({ metrics, readiness: { db, signingKeyCount: () => signingKeyCount, accepting: () => base.serving.now } });
  const opsApp = config.ops.port === undefined ? undefined : new Koa().use(ops.routes());
  const openApi = openApiDocument(issuer);
  const app = createApp({
    provider,
    find,
    db,
    views,
    logger,
    presentedCertificate,
    eidasTpp,
    decoupledDevice: decoupledAuthorisationDevice({
      db,
      logger,
      trigger: triggerDevice,
      lifetimeSeconds: config.ciba.requestLifetimeSeconds,
    }),
    forwardedTrust,
    authentication,
    accounts,
    csrf: createCsrf(keys.cookie),
    idleTimeoutSeconds: config.sca.idleTimeoutSeconds,
    dashboard,
    metrics,
    ops: opsApp ? undefined : ops,
    rateLimits: config.rateLimits,
    eventLongPollSeconds: config.events.longPollSeconds,
    openApi,
    bankTimeZone: config.branding.timeZone,
    requestTracing: options.requestTracing,
  });
  return { provider, outbound, app, opsApp, openApi, keyWatch, demo };
}

/** Background work every process does: event push (SKIP LOCKED claims keep processes off each other's events), then the sweeps. */
function startJobs(
  config: Config,
  logger: Logger,
  life: Lifecycle,
  deps: { db: Db; provider: Provider; outbound: ReturnType<typeof createOutboundFetch> },
) {
  life.started(
    'event delivery',
    startEventDelivery({
      ...deps,
      logger,
      settings: {
        pollIntervalMs: config.events.pushIntervalMs,
        maxAttempts: config.events.pushMaxAttempts,
        backoffBaseMs: config.events.pushBackoffMs,
        backoffMaxMs: config.events.pushMaxBackoffMs,
        batchSize: 32,
        // Longer than one outbound request can take, so a live claim never lapses mid-request.
        leaseSeconds: Math.ceil(config.outbound.totalTimeoutMs / 1000) + 30,
      },
    }),
    (delivery) => delivery.stop(),
  );
  const sweeper = setInterval(() => {
    // Each failure is logged where it happened; the next run tries again.
    sweepOnce(deps.db, config, logger).catch(() => {});
  }, config.sweepIntervalSeconds * 1000);
  sweeper.unref();
  life.started('sweeps', sweeper, clearInterval);
}

/**
 * The admin and internal listeners, then the public one last, so a connection is either refused or served
 * by the whole app. Stopping runs the other way: the public listener drains (readiness already says it is
 * draining), then the internal and admin listeners close.
 */
async function openListeners(
  config: Config,
  logger: Logger,
  life: Lifecycle,
  parts: { db: Db; tls: ServerTls; reservation: Awaited<ReturnType<typeof reservePort>>; serving: Serving } & Pick<
    Awaited<ReturnType<typeof assemble>>,
    'app' | 'opsApp' | 'openApi' | 'keyWatch'
  >,
) {
  const { db, tls, app, opsApp, openApi, keyWatch, serving } = parts;
  const listeners = plannedListeners(config);
  // Free when start-up began (checkPortsFree), but another process may have taken one since.
  const taken = (variable: string) => (error: unknown) => {
    throw describeListenFailure(
      listeners.find((listener) => listener.portVariable === variable)!,
      error,
    );
  };
  const admin = await startAdminListener({
    config,
    db,
    logger,
    openApi: adminOpenApiDocument(openApi),
    tls: config.tls.terminatedByProxy ? undefined : tls,
    ...(keyWatch && { signingKeysChanged: keyWatch.refreshNow }),
  });
  if (admin) life.started('admin listener', admin, (listener) => listener.close());
  const opsServer = opsApp && http.createServer(opsApp.callback());
  const opsAddress =
    opsServer &&
    life.started('internal listener', await listen(opsServer, config.ops.host, config.ops.port!).catch(taken('OPS_PORT')), () => {
      opsServer.close();
      opsServer.closeAllConnections();
    });
  const server = config.tls.terminatedByProxy ? http.createServer(app.callback()) : https.createServer(httpsOptions(tls), app.callback());
  server.keepAliveTimeout = 65_000;
  await parts.reservation.release();
  life.started('public listener', await listen(server, config.host, parts.reservation.port).catch(taken('PORT')), async () => {
    serving.now = false;
    await drain(server, config.shutdownGraceSeconds * 1000);
  });
  serving.now = true;
  return { opsPort: opsAddress?.port, adminUrl: admin?.url };
}

/**
 * Start-up: ports and data folder checked -> database (waited for, migrated) -> TLS -> the service
 * assembled -> background jobs -> listeners. Everything that stays open is recorded in one Lifecycle as
 * it starts; closing, or a start-up that fails part-way, stops it all in reverse order.
 */
export async function startAssent(config: Config, logger: Logger, options: StartOptions = {}): Promise<RunningAssent> {
  await checkPortsFree(plannedListeners(config));
  await ensureDataDir(config.dataDir);
  const life = new Lifecycle(logger);
  try {
    const db = await openDatabase(config, logger, life);
    const tls = await tlsMaterial(config);
    const reservation = life.started('port reservation', await reservePort(config.host, config.port), (held) => held.release());
    const issuer = config.issuer ?? `https://localhost:${reservation.port}`;
    const serving: Serving = { now: false };
    const service = await assemble(config, logger, options, life, { db, tls, issuer, port: reservation.port, serving });
    startJobs(config, logger, life, { db, provider: service.provider, outbound: service.outbound });
    const { opsPort, adminUrl } = await openListeners(config, logger, life, { db, tls, reservation, serving, ...service });
    return {
      issuer,
      provider: service.provider,
      app: service.app,
      port: reservation.port,
      db,
      demoDirectory: service.demo?.directory,
      demoTotp: service.demo?.totp,
      opsPort,
      adminUrl,
      sweepNow: () => sweepOnce(db, config, logger),
      close: () => life.stop(),
    };
  } catch (error) {
    // Nothing started is left running: the process would neither serve nor exit.
    await life.stop();
    throw error;
  }
}
