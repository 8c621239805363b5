import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { DestinationStream } from 'pino';
import { Agent } from 'undici';
import { loadConfig } from '../../src/config.ts';
import type { TriggerAuthenticationDevice } from '../../src/ciba/authentication-device.ts';
import type { AccountDirectory } from '../../src/customers/account-directory.ts';
import { createLogger } from '../../src/logger.ts';
import { type RunningAssent, startAssent } from '../../src/server.ts';
import { type MovableClock, movableClock } from './clock.ts';
import { createTestDatabase } from './database.ts';

export interface TestAssent extends RunningAssent {
  dataDir: string;
  databaseUrl: string;
  /** The dev CA that signed the server certificate and issues test TPP client certificates. */
  ca: { certPem: string; keyPem: string };
  stop(): Promise<void>;
}

export interface TestAssentOptions {
  logDestination?: DestinationStream;
  accounts?: AccountDirectory;
  triggerAuthenticationDevice?: TriggerAuthenticationDevice;
  /** Time the test can move forward, for the engine and the database together (test/support/clock.ts). */
  movableClock?: boolean;
}

/** A full Assent over real TLS on a free port, with its own Postgres database and data folder. */
export function startTestAssent(
  env: Record<string, string>,
  options: TestAssentOptions & { movableClock: true },
): Promise<TestAssent & { clock: MovableClock }>;
export function startTestAssent(env?: Record<string, string>, options?: TestAssentOptions): Promise<TestAssent>;
export async function startTestAssent(
  env: Record<string, string> = {},
  options: TestAssentOptions = {},
): Promise<TestAssent & { clock?: MovableClock }> {
  const database = await createTestDatabase({ movableClock: options.movableClock });
  const dataDir = await mkdtemp(path.join(tmpdir(), 'assent-data-'));
  const config = loadConfig({
    DATABASE_URL: database.url,
    DATA_DIR: dataDir,
    DEV_MODE: 'true',
    SEED_DEMO: 'false',
    PORT: '0',
    ADMIN_PORT: '0',
    // Every request of a test comes from 127.0.0.1: rate limits are tested on their own (test/ops/rate-limit.test.ts).
    RATE_LIMIT_LOGIN: 'off',
    RATE_LIMIT_OTP: 'off',
    RATE_LIMIT_PAR: 'off',
    RATE_LIMIT_TOKEN: 'off',
    RATE_LIMIT_REGISTRATION: 'off',
    RATE_LIMIT_BACKCHANNEL: 'off',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    ...env,
  });
  const running = await startAssent(config, createLogger(config.logLevel, options.logDestination), {
    accounts: options.accounts,
    triggerAuthenticationDevice: options.triggerAuthenticationDevice,
  });
  const clock = options.movableClock ? movableClock(running.db) : undefined;
  const ca = {
    certPem: await readFile(path.join(dataDir, 'tls', 'ca.pem'), 'utf8'),
    keyPem: await readFile(path.join(dataDir, 'tls', 'ca-key.pem'), 'utf8'),
  };
  return {
    ...running,
    dataDir,
    databaseUrl: database.url,
    ca,
    ...(clock && { clock }),
    async stop() {
      clock?.restore();
      await running.close();
      await database.drop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** An HTTPS agent that trusts the dev CA and optionally presents a client certificate. */
export function tlsAgent(caPem: string, clientCertificate?: { certPem: string; keyPem: string }): Agent {
  return new Agent({
    connect: {
      ca: caPem,
      ...(clientCertificate && { cert: clientCertificate.certPem, key: clientCertificate.keyPem }),
    },
  });
}
