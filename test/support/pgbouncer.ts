import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from './free-port.ts';
import { untilListening } from './listening.ts';
import { postgresUserCommand, postgresUserDirectory, systemCommand } from './postgres-cluster.ts';

/**
 * PgBouncer (Debian's package) in transaction-pooling mode in front of one database: each transaction
 * (each statement outside one) gets whichever server connection is free, so nothing a client leaves on a
 * session (prepared statements, LISTEN, session settings and advisory locks) is there for its next one.
 * It refuses to run as root, so as root it runs as `postgres`.
 */
export interface PgBouncer {
  url: string;
  stop(): Promise<void>;
}

/**
 * `databaseUrl`: the database behind it; `serverConnections`: its pool (fewer than the clients, as in
 * production); `ignoreStartupParameters`: session settings it takes from clients and drops, instead of
 * refusing the connection (what operators add for clients that send them).
 */
export async function startPgBouncer(
  databaseUrl: string,
  options: { serverConnections?: number; ignoreStartupParameters?: string[] } = {},
): Promise<PgBouncer> {
  const target = new URL(databaseUrl);
  const database = target.pathname.slice(1);
  const directory = postgresUserDirectory('assent-pgbouncer-');
  const port = await freePort();
  const configPath = path.join(directory, 'pgbouncer.ini');
  writeFileSync(
    configPath,
    [
      '[databases]',
      `${database} = host=${target.hostname} port=${target.port} dbname=${database} user=${decodeURIComponent(target.username)}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      `unix_socket_dir = ${directory}`,
      'auth_type = any',
      'pool_mode = transaction',
      `default_pool_size = ${options.serverConnections ?? 4}`,
      'max_client_conn = 200',
      ...(options.ignoreStartupParameters ? [`ignore_startup_parameters = ${options.ignoreStartupParameters.join(',')}`] : []),
      `logfile = ${path.join(directory, 'pgbouncer.log')}`,
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  const [file, argv] = postgresUserCommand(systemCommand('pgbouncer'), [configPath]);
  const child = spawn(file, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  await untilListening(port, child, 'pgbouncer');
  const url = new URL(databaseUrl);
  url.host = `127.0.0.1:${port}`;
  return {
    url: url.toString(),
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
