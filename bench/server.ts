import { readFile } from 'node:fs/promises';
import type { ClientMetadata } from 'oidc-provider';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/logger.ts';
import { startAssent } from '../src/server.ts';

/**
 * The server under benchmark, as its own process: Assent's normal start-up, with BENCH_STORE=memory
 * swapping in oidc-provider's in-memory adapter for the baseline. Clients come from BENCH_CLIENTS_FILE
 * through the provider's own Client adapter, so both stores receive them the same way.
 */

const config = loadConfig();
const logger = createLogger(config.logLevel);
const assent = await startAssent(config, logger, { inMemoryStore: process.env.BENCH_STORE === 'memory' });

interface ClientAdapter {
  upsert(id: string, payload: ClientMetadata): Promise<void>;
  find(id: string): Promise<ClientMetadata | undefined>;
}

const clients = JSON.parse(await readFile(process.env.BENCH_CLIENTS_FILE!, 'utf8')) as ClientMetadata[];
const { adapter } = assent.provider.Client as unknown as { adapter: ClientAdapter };
for (const client of clients) await adapter.upsert(client.client_id, client);
if (process.env.BENCH_STORE === 'memory') {
  // The in-memory adapter is one LRU of 1,000 entries for every model: under load, issued tokens
  // would evict the clients and every request would fail. Pin them, as static clients would be.
  const pinned = new Map(clients.map((client) => [client.client_id, client]));
  const find = adapter.find.bind(adapter);
  adapter.find = async (id) => pinned.get(id) ?? find(id);
}

process.stdout.write(`${JSON.stringify({ msg: 'bench server ready', port: assent.port, issuer: assent.issuer, pid: process.pid })}\n`);

process.once('SIGTERM', () => {
  assent.close().then(() => process.exit(0), () => process.exit(1));
});
