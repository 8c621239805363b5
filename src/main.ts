import { ConfigError, loadConfig } from './config.ts';
import { createLogger } from './logger.ts';
import { startAssent } from './server.ts';

let config;
try {
  config = loadConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(error.message);
  process.exit(2);
}

const logger = createLogger(config.logLevel);
const assent = await startAssent(config, logger);

logger.info(
  {
    issuer: assent.issuer,
    discovery: `${assent.issuer}/.well-known/openid-configuration`,
    database: config.databaseUrl ? 'postgres' : `embedded PGlite in ${config.dataDir}/pglite`,
    ...(assent.demoDirectory && { demoCredentials: assent.demoDirectory, devCa: `${config.dataDir}/tls/ca.pem` }),
  },
  'Assent is ready',
);
if (assent.demoTotp) {
  // Dev mode only: the demo customer's second factor, to add to an authenticator app (or use `npm run admin -- customer:otp demo`).
  process.stdout.write(`demo customer's TOTP secret: ${assent.demoTotp.secret}\n  enrol with: ${assent.demoTotp.otpauthUri}\n`);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    logger.info({ signal }, 'shutting down');
    assent.close().then(() => {
      logger.info('shut down');
      process.exit(0);
    }, (error: unknown) => {
      logger.error({ err: error }, 'shutdown failed');
      process.exit(1);
    });
  });
}
