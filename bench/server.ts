import { readFile } from 'node:fs/promises';
import type { ClientMetadata } from 'oidc-provider';
import { Client } from 'pg';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { startAssent } from '../src/server.ts';

/**
 * The server under benchmark, as its own process: Assent's normal start-up. Clients come from
 * BENCH_CLIENTS_FILE through the provider's own Client adapter, as a registration would store them.
 */

// Every statement the process sends Postgres is a round trip (pg pipelines a query's messages, and
// BEGIN and COMMIT are statements of their own): counted here, read by the harness with SIGUSR2.
// Tallied by statement (its first words: table and shape, never values, which are parameters).
const roundTrips = new Map<string, number>();
const statementOf = (text: unknown) =>
  (typeof text === 'string' ? text : String((text as { text?: string } | undefined)?.text)).replace(/\s+/g, ' ').slice(0, 90);
const query = Client.prototype.query;
Client.prototype.query = function countedQuery(this: Client, ...args: Parameters<typeof query>) {
  const statement = statementOf(args[0]);
  roundTrips.set(statement, (roundTrips.get(statement) ?? 0) + 1);
  return query.apply(this, args);
} as typeof query;
process.on('SIGUSR2', () =>
  process.stdout.write(`${JSON.stringify({ msg: 'bench round trips', byStatement: Object.fromEntries(roundTrips) })}\n`),
);

const config = loadConfig();
const logger = createLogger(config.logLevel);
const assent = await startAssent(config, logger);

interface ClientAdapter {
  upsert(id: string, payload: ClientMetadata): Promise<void>;
}

const clients = JSON.parse(await readFile(process.env.BENCH_CLIENTS_FILE!, 'utf8')) as ClientMetadata[];
const { adapter } = assent.provider.Client as unknown as { adapter: ClientAdapter };
for (const client of clients) await adapter.upsert(client.client_id, client);

process.stdout.write(`${JSON.stringify({ msg: 'bench server ready', port: assent.port, issuer: assent.issuer, pid: process.pid })}\n`);

process.once('SIGTERM', () => {
  assent.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
