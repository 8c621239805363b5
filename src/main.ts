import { type Config, ConfigError, loadConfig } from './config.ts';
import { describeDatabaseFailure } from './db/connection-failure.ts';
import { DataDirUnusable } from './db/data-dir.ts';
import { EmbeddedDatabaseHeld } from './db/embedded-lock.ts';
import { PortUnavailable } from './http/listen-check.ts';
import { createLogger } from './logger.ts';
import { DASHBOARD_PREFIX, DISCOVERY_PATH } from './protocol/routes.ts';
import { EidasTrustFileError } from './tpp/eidas-trust.ts';

function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    return process.exit(2);
  }
}
const config = configOrExit();

const logger = createLogger(config.logLevel);
logger.info({ mode: config.mode.name, why: config.mode.reason }, `starting in ${config.mode.name} mode (${config.mode.reason})`);

/** Start-up failures an operator can fix, as one line each instead of a stack trace. */
function startupFailure(error: unknown): string | undefined {
  if (error instanceof EmbeddedDatabaseHeld) return `${error.message}: stop it first, or give this one another DATA_DIR`;
  if (
    error instanceof ConfigError ||
    error instanceof PortUnavailable ||
    error instanceof DataDirUnusable ||
    error instanceof EidasTrustFileError
  )
    return error.message;
  return describeDatabaseFailure(error, config.databaseUrl);
}

// Tracing starts before anything it instruments loads (Koa, pg, node:http): server.ts and all it imports come after
// it, dynamically. With tracing off, none of OpenTelemetry is loaded.
const tracing = config.tracing ? (await import('./ops/tracing.ts')).startTracing(config.tracing) : undefined;
const { startAssent } = await import('./server.ts');

let assent;
try {
  assent = await startAssent(config, logger, { ...(tracing && { requestTracing: tracing.requestAttributes }) });
} catch (error) {
  const line = startupFailure(error);
  if (!line) throw error;
  logger.fatal({ err: error }, line);
  console.error(line);
  process.exit(1);
}

const ready = {
  issuer: assent.issuer,
  discovery: `${assent.issuer}${DISCOVERY_PATH}`,
  mode: config.mode.name,
  database: config.databaseUrl ? 'postgres' : `embedded PGlite in ${config.dataDir}/pglite`,
  ...(assent.adminUrl && { adminApi: assent.adminUrl }),
  ...(assent.demoDirectory && { demoCredentials: assent.demoDirectory, devCa: `${config.dataDir}/tls/ca.pem` }),
};
// Machines (.ci/run, log pipelines) read this line; in dev mode a person at the terminal gets the lines below.
logger.info(ready, 'Assent is ready');
if (config.devMode) {
  const lines = [
    `Assent is ready at ${ready.issuer} (${config.mode.name} mode, ${ready.database})`,
    `  discovery:          ${ready.discovery}`,
    `  customer dashboard: ${ready.issuer}${DASHBOARD_PREFIX}`,
    ...(ready.adminApi ? [`  admin API:          ${ready.adminApi}   (npm run admin -- help)`] : []),
    ...(ready.demoCredentials
      ? [`  demo customer:      ${ready.demoCredentials}/customer.json; trust ${ready.devCa}; try npm run demo`]
      : []),
    // The demo customer's second factor, to add to an authenticator app (or use `npm run admin -- customer:otp demo`).
    ...(assent.demoTotp
      ? [`  demo customer's TOTP secret: ${assent.demoTotp.secret}`, `    enrol with: ${assent.demoTotp.otpauthUri}`]
      : []),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    logger.info({ signal }, 'shutting down');
    assent
      .close()
      // The spans of the last requests are exported before the process ends.
      .then(() => tracing?.shutdown())
      .then(
        () => {
          logger.info('shut down');
          process.exit(0);
        },
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
  });
}
