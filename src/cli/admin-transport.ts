import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { Agent, fetch } from 'undici';
import { adminTokenFile } from '../admin/admin-credentials.ts';
import { readAdminEndpoint } from '../admin/admin-endpoint.ts';
import { type AdminOperation, AdminError, operatorOf } from '../admin/admin-operation.ts';
import { ADMIN_API_PREFIX } from '../admin/admin-operations.ts';
import { OPERATOR_HEADER } from '../admin/admin-router.ts';
import { type Config, ConfigError } from '../config.ts';
import { connectDatabase } from '../db/connect.ts';
import { describeDatabaseFailure } from '../db/connection-failure.ts';
import { EmbeddedDatabaseHeld, isAlive, lockEmbeddedDatabase } from '../db/embedded-lock.ts';
import { migrateToLatest } from '../db/migrate.ts';

/**
 * How the CLI runs an operation: through a running server's admin API whenever there is one (so the
 * server sees every change at once, and an embedded database is only ever written by its server),
 * otherwise against the database itself.
 */

export type Transport = (operation: AdminOperation, input: Record<string, unknown>) => Promise<unknown>;

/** The operating-system user runs the CLI: that is the operator the audit trail names. */
export const localOperatorName = () => userInfo().username;

async function adminToken(config: Config): Promise<string | undefined> {
  if (config.admin.token) return config.admin.token;
  return (await readFile(adminTokenFile(config.dataDir), 'utf8').catch(() => undefined))?.trim() || undefined;
}

function apiTransport(baseUrl: string, token: string, dispatcher: Agent): Transport {
  return async (operation, input) => {
    const remaining = { ...input };
    const path = operation.path.replace(/:(\w+)/g, (_, name: string) => {
      const value = encodeURIComponent(String(remaining[name]));
      delete remaining[name];
      return value;
    });
    const url = new URL(`${baseUrl}${ADMIN_API_PREFIX}${path}`);
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      [OPERATOR_HEADER]: localOperatorName(),
      accept: 'application/json',
    };
    let body: string | undefined;
    if (operation.method === 'GET') {
      for (const [name, value] of Object.entries(remaining)) if (value !== undefined) url.searchParams.set(name, String(value));
    } else {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(remaining);
    }
    let response;
    try {
      response = await fetch(url, { method: operation.method, headers, body, dispatcher });
    } catch (error) {
      throw new Error(
        `cannot reach the admin API at ${baseUrl}: ${(error as Error & { cause?: Error }).cause?.message ?? (error as Error).message}`,
        { cause: error },
      );
    }
    const text = await response.text();
    if (response.ok)
      return operation.format === 'jsonl'
        ? text
            .split('\n')
            .filter(Boolean)
            .map((line) => JSON.parse(line) as unknown)
        : (JSON.parse(text) as unknown);
    const problem = (() => {
      try {
        return JSON.parse(text) as { error?: string; error_description?: string };
      } catch {
        return {};
      }
    })();
    const message = problem.error_description ?? `the admin API answered ${response.status}`;
    if (response.status === 401)
      throw new AdminError('unauthorized', `${message} (the token in ADMIN_TOKEN or ${adminTokenFile('DATA_DIR')} was refused)`);
    if (problem.error === 'invalid_request' || problem.error === 'not_found' || problem.error === 'conflict')
      throw new AdminError(problem.error, message);
    throw new Error(message);
  };
}

/** Pins the certificate the server published beside its endpoint: no CA or host name to get wrong. */
const pinnedAgent = (certificatePem: string) =>
  new Agent({
    connect: { ca: certificatePem, allowPartialTrustChain: true, checkServerIdentity: () => undefined } as Agent.Options['connect'],
  });

export interface OpenTransport {
  run: Transport;
  /** Where the work goes, for the operator's own understanding (`--verbose`). */
  description: string;
  close(): Promise<void>;
}

export async function openTransport(config: Config): Promise<OpenTransport> {
  if (config.admin.url) {
    const token = await adminToken(config);
    if (!token) throw new ConfigError(`ADMIN_URL is set (${config.admin.url}) but ADMIN_TOKEN is not: set the server's admin token`);
    const ca = config.admin.caFile ? await readFile(config.admin.caFile, 'utf8') : undefined;
    const dispatcher = new Agent(ca ? { connect: { ca } } : {});
    return {
      run: apiTransport(config.admin.url, token, dispatcher),
      description: `admin API at ${config.admin.url}`,
      close: () => dispatcher.close(),
    };
  }
  const endpoint = await readAdminEndpoint(config.dataDir);
  if (endpoint && isAlive(endpoint.pid)) {
    const token = await adminToken(config);
    if (!token) {
      throw new ConfigError(
        `an Assent server (pid ${endpoint.pid}) runs here with its admin API at ${endpoint.url}: set ADMIN_TOKEN to its admin token`,
      );
    }
    const dispatcher = endpoint.certificatePem ? pinnedAgent(endpoint.certificatePem) : new Agent();
    return {
      run: apiTransport(endpoint.url, token, dispatcher),
      description: `admin API at ${endpoint.url} (server pid ${endpoint.pid})`,
      close: () => dispatcher.close(),
    };
  }
  return directTransport(config);
}

async function directTransport(config: Config): Promise<OpenTransport> {
  let release: (() => Promise<void>) | undefined;
  if (!config.databaseUrl) {
    try {
      release = await lockEmbeddedDatabase(config.dataDir, 'admin-cli');
    } catch (error) {
      if (!(error instanceof EmbeddedDatabaseHeld)) throw error;
      const advice =
        error.holder.role === 'server'
          ? 'restart it with its admin API on (ADMIN_TOKEN, or dev mode) so this command can go through it, or stop it and run this again'
          : 'wait for it to finish and run this again';
      throw new ConfigError(`${error.message}: ${advice}`, { cause: error });
    }
  }
  const db = await connectDatabase(config);
  try {
    await migrateToLatest(db);
  } catch (error) {
    await db.destroy();
    await release?.();
    const unusable = describeDatabaseFailure(error, config.databaseUrl);
    throw unusable ? new ConfigError(unusable, { cause: error }) : error;
  }
  const operator = operatorOf(localOperatorName(), 'local-cli');
  return {
    run: (operation, input) => operation.run({ db, config, operator }, input),
    description: config.databaseUrl ? 'the database in DATABASE_URL' : `the embedded database in ${config.dataDir}`,
    async close() {
      await db.destroy();
      await release?.();
    },
  };
}
