import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import type { Provider } from 'oidc-provider';
import type { Logger } from 'pino';
import { createApp } from './app.ts';
import type { Config } from './config.ts';
import { setUpDashboard } from './dashboard/dashboard.ts';
import { sweepDashboardSessions } from './dashboard/session-service.ts';
import { createCustomerAuthentication } from './customers/authentication.ts';
import { sweepLoginThrottle } from './customers/login-throttle.ts';
import { loadTotpKey } from './customers/totp-key.ts';
import { createWorkLimiter } from './customers/work-limiter.ts';
import { connectDatabase, poolStats, type Db } from './db/connect.ts';
import { migrateToLatest } from './db/migrate.ts';
import { seedDemoConsents } from './demo/demo-consents.ts';
import { seedDemo } from './demo/seed.ts';
import { createClientCertificateReader } from './http/client-certificate.ts';
import { createCsrf } from './http/csrf.ts';
import { ensureDevPki } from './http/dev-pki.ts';
import { httpsOptions, parseCertificateBundle, readOptional, type TlsMaterial } from './http/tls.ts';
import { createViews } from './http/views.ts';
import { expireDueConsents } from './consents/consent-service.ts';
import { sweepScaProgress } from './interactions/sca-progress.ts';
import { sweepExpired } from './store/adapter.ts';
import { watchSigningKeys } from './oidc/key-rotation.ts';
import { loadServerKeys } from './oidc/keys.ts';
import { createOutboundFetch } from './http/outbound-fetch.ts';
import { createProvider } from './oidc/provider.ts';
import { ENGINE_PATHS } from './protocol/routes.ts';
import { ensureDevDirectory } from './tpp/dev-directory.ts';
import { tppRegistration } from './tpp/registration-middleware.ts';
import { createDirectoryKeyring } from './tpp/trusted-directories.ts';
import { createMetrics } from './ops/metrics.ts';
import { deleteEndedWindows } from './ops/rate-limit-repository.ts';
import { opsRouter } from './ops/ops-router.ts';

export interface RunningAssent {
  issuer: string;
  provider: Provider;
  port: number;
  db: Db;
  /** Where dev mode wrote the demo customer's and TPP's credentials, when it seeded them. */
  demoDirectory: string | undefined;
  /** Dev mode: the demo customer's TOTP enrolment, for the start-up banner. */
  demoTotp: { secret: string; otpauthUri: string } | undefined;
  /** The internal listener's port, when OPS_PORT is set. */
  opsPort: number | undefined;
  close(): Promise<void>;
}

async function tlsMaterial(config: Config): Promise<TlsMaterial & { devCa?: { certPem: string; keyPem: string } }> {
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

function listen(server: http.Server, host: string, port: number) {
  return new Promise<AddressInfo>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server.address() as AddressInfo));
  });
}

/** Expired oidc-provider artefacts, SCA progress of finished interactions, stale lockout and rate-limit counters, dashboard sessions. */
async function sweepAll(db: Db, config: Config): Promise<number> {
  return (await sweepExpired(db)) + (await sweepScaProgress(db)) + (await sweepLoginThrottle(db, new Date())) + (await deleteEndedWindows(db)) + (await sweepDashboardSessions(db, config.dashboard));
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

/** Start-up: database -> migrations -> TLS -> listener -> keys -> provider -> demo data -> requests. */
export async function startAssent(config: Config, logger: Logger, options: { inMemoryStore?: boolean } = {}): Promise<RunningAssent> {
  const db = await connectDatabase(config);
  const applied = await migrateToLatest(db);
  if (applied.length > 0) logger.info({ migrations: applied }, 'database migrated');

  const tls = await tlsMaterial(config);
  const server = config.tls.terminatedByProxy ? http.createServer() : https.createServer(httpsOptions(tls));
  server.keepAliveTimeout = 65_000;
  const address = await listen(server, config.host, config.port);
  const issuer = config.issuer ?? `https://localhost:${address.port}`;

  const keys = await loadServerKeys(db, config);
  const presentedCertificate = createClientCertificateReader({
    terminatedByProxy: config.tls.terminatedByProxy,
    header: config.tls.clientCertHeader,
    trustedProxies: config.tls.trustedProxies,
    trustedCas: parseCertificateBundle(tls.clientCaPem),
  });
  const outbound = createOutboundFetch({ ...config.outbound, extraCaPem: config.devMode ? tls.devCa?.certPem : undefined });
  const provider = createProvider({ issuer, db, keys, presentedCertificate, outbound, ttl: config.ttl, refreshTokenRotation: config.refreshTokenRotation, inMemoryStore: options.inMemoryStore });
  const directories = [...config.tpp.trustedDirectories, ...(config.tpp.devDirectory ? [await ensureDevDirectory(config.dataDir)] : [])];
  const keyring = createDirectoryKeyring(directories, outbound, config.tpp.directoryRefreshSeconds);
  provider.use(tppRegistration({ db, issuer, keyring, outbound, presentedCertificate, path: ENGINE_PATHS.registration }));
  const totpKey = await loadTotpKey(db, { devMode: config.devMode, configured: config.sca.totpEncryptionKey });
  const demo = config.seedDemo && tls.devCa ? await seedDemo(db, config.dataDir, tls.devCa, totpKey) : undefined;
  if (demo) await seedDemoConsents(db, provider);

  const authentication = createCustomerAuthentication({
    db,
    totpKey,
    lockoutSeconds: config.sca.lockoutSeconds,
    passwordWork: createWorkLimiter({ concurrency: config.sca.passwordHashConcurrency, queue: config.sca.passwordHashQueue }),
  });
  const dashboard = await setUpDashboard({
    db,
    issuer,
    sessions: config.dashboard,
    listener: { host: config.host, port: address.port, certificatePem: config.tls.terminatedByProxy ? undefined : tls.certPem },
  });

  let signingKeyCount = keys.signing.length;
  const stopKeyWatch = config.signingKeysFile
    ? undefined
    : watchSigningKeys({
        db,
        provider,
        initial: keys.signing,
        intervalSeconds: config.keyRotation.refreshIntervalSeconds,
        logger,
        onChange: (signing) => { signingKeyCount = signing.length; },
      });

  let draining = false;
  const metrics = createMetrics(() => poolStats(db));
  const ops = opsRouter({ metrics, readiness: { db, signingKeyCount: () => signingKeyCount, draining: () => draining } });
  const opsServer = config.ops.port === undefined ? undefined : http.createServer(new Koa().use(ops.routes()).callback());
  const opsAddress = opsServer && (await listen(opsServer, config.ops.host, config.ops.port!));

  const app = createApp({
    provider,
    db,
    views: createViews(),
    logger,
    presentedCertificate,
    behindProxy: config.tls.terminatedByProxy,
    authentication,
    csrf: createCsrf(keys.cookie),
    idleTimeoutSeconds: config.sca.idleTimeoutSeconds,
    dashboard,
    metrics,
    ops: opsServer ? undefined : ops,
    rateLimits: config.rateLimits,
  });
  server.on('request', app.callback());

  const sweeper = setInterval(() => {
    sweepAll(db, config).then(
      (deleted) => deleted > 0 && logger.debug({ deleted }, 'expired rows swept'),
      (error: unknown) => logger.warn({ err: error }, 'sweep of expired rows failed'),
    );
    expireDueConsents(db).then(
      (expired) => expired > 0 && logger.info({ expired }, 'consents expired'),
      (error: unknown) => logger.warn({ err: error }, 'consent expiry sweep failed'),
    );
  }, config.sweepIntervalSeconds * 1000);
  sweeper.unref();

  return {
    issuer,
    provider,
    port: address.port,
    db,
    demoDirectory: demo?.directory,
    demoTotp: demo?.totp,
    opsPort: opsAddress?.port,
    async close() {
      draining = true;
      stopKeyWatch?.();
      clearInterval(sweeper);
      await drain(server, config.shutdownGraceSeconds * 1000);
      opsServer?.close();
      opsServer?.closeAllConnections();
      await db.destroy();
    },
  };
}
