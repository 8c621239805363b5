import { spawn } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import path from 'node:path';
import { freePort } from './free-port.ts';
import { untilListening } from './listening.ts';
import {
  asPostgresUser,
  asPostgresUserAsync,
  postgresUserDirectory,
  postmasterPid,
  postmasterChildren,
  systemCommand,
} from './postgres-cluster.ts';

/**
 * A highly available Postgres the way banks run it, on one machine: a primary, a synchronous streaming
 * standby (pg_basebackup -R, `synchronous_standby_names`, `synchronous_commit=on`), and HAProxy in
 * front as the one read-write address clients use, as a cloud's or CloudNativePG's `-rw` service is.
 * `killPrimary()` plays the loss of the primary's machine, `promoteStandby()` what an operator (or Patroni) does next.
 */

/** The standby's name on the primary: commits wait until it has the WAL (synchronous_standby_names). */
const STANDBY_NAME = 'standby';

export interface FailoverTimes {
  /** When `pg_ctl promote -w` returned: the standby accepts writes (ms since the epoch). */
  promotedAt: number;
  /** When HAProxy sends new connections (and retries of refused ones) to the promoted standby. */
  repointedAt: number;
}

export interface ReplicatedPostgres {
  /** The read-write address (HAProxy): what DATABASE_URL names. */
  url: string;
  /** The standby, directly (after a failover: the new primary). */
  standbyUrl: string;
  /** kill -9 of every process of the primary: its host is gone. */
  killPrimary(): void;
  /** `pg_ctl promote` of the standby, then HAProxy sends connections to it. */
  promoteStandby(): Promise<FailoverTimes>;
  stop(): Promise<void>;
}

/** Server settings both clusters share: quick to start, no fsync (a killed process keeps the OS's page cache). */
function serverOptions(port: number, socketDirectory: string, extra: string[]) {
  const settings = ['listen_addresses=127.0.0.1', 'fsync=off', 'full_page_writes=off', 'max_connections=200', ...extra];
  return `-p ${port} -k ${socketDirectory}${settings.map((setting) => ` -c ${setting}`).join('')}`;
}

/** SIGKILL to the postmaster and every process it started, at once: the host is gone, nothing shuts down cleanly. */
function killCluster(postmaster: number) {
  for (const pid of [postmaster, ...postmasterChildren(postmaster)]) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Exited meanwhile.
    }
  }
}

/** Stops a cluster at once if it still runs (the killed primary does not). */
function stopCluster(data: string) {
  return asPostgresUserAsync('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
}

/** One command on HAProxy's runtime API (its admin socket); the answer, trimmed. */
function haproxyCommand(socketPath: string, command: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('end', () => resolve(answer.trim()));
    socket.on('error', reject);
    socket.end(`${command}\n`);
  });
}

export async function startReplicatedPostgres(): Promise<ReplicatedPostgres> {
  const directory = postgresUserDirectory('assent-ha-');
  const primaryData = path.join(directory, 'primary');
  const standbyData = path.join(directory, 'standby');
  const [primaryPort, standbyPort, proxyPort] = [await freePort(), await freePort(), await freePort()];

  asPostgresUser('initdb', ['-D', primaryData, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const primaryOptions = serverOptions(primaryPort, directory, [
    'wal_level=replica',
    `synchronous_standby_names=${STANDBY_NAME}`,
    'synchronous_commit=on',
  ]);
  asPostgresUser('pg_ctl', ['-D', primaryData, '-o', primaryOptions, '-l', path.join(directory, 'primary.log'), '-w', 'start']);
  // -R writes primary_conninfo and standby.signal; the standby names itself through cluster_name.
  asPostgresUser('pg_basebackup', [
    '-D',
    standbyData,
    '-h',
    '127.0.0.1',
    '-p',
    String(primaryPort),
    '-U',
    'postgres',
    '-X',
    'stream',
    '--checkpoint=fast',
    '-R',
  ]);
  const standbyOptions = serverOptions(standbyPort, directory, [`cluster_name=${STANDBY_NAME}`]);
  asPostgresUser('pg_ctl', ['-D', standbyData, '-o', standbyOptions, '-l', path.join(directory, 'standby.log'), '-w', 'start']);

  // HAProxy as a plain TCP proxy with both servers listed and no health checks: which one takes writes is
  // decided by whoever fails over (here promoteStandby(), through the runtime API), as Patroni's or an operator's
  // tooling would. A connection attempt refused meanwhile is retried, each time on whichever server is
  // enabled then (redispatch), so one begun during the outage lands on the promoted standby.
  const socketPath = path.join(directory, 'haproxy.sock');
  const configPath = path.join(directory, 'haproxy.cfg');
  writeFileSync(
    configPath,
    [
      'global',
      `  stats socket ${socketPath} mode 600 level admin`,
      'defaults',
      '  mode tcp',
      '  timeout connect 2s',
      '  timeout client 1h',
      '  timeout server 1h',
      '  retries 3',
      '  option redispatch 1',
      'frontend postgres',
      `  bind 127.0.0.1:${proxyPort}`,
      '  default_backend postgres',
      'backend postgres',
      '  balance first',
      `  server primary 127.0.0.1:${primaryPort}`,
      `  server standby 127.0.0.1:${standbyPort} disabled`,
      '',
    ].join('\n'),
  );
  const haproxy = spawn(systemCommand('haproxy'), ['-db', '-f', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  await untilListening(proxyPort, haproxy, 'haproxy');

  return {
    url: `postgres://postgres@127.0.0.1:${proxyPort}/postgres`,
    standbyUrl: `postgres://postgres@127.0.0.1:${standbyPort}/postgres`,
    killPrimary: () => killCluster(postmasterPid(primaryData)),
    async promoteStandby() {
      await asPostgresUserAsync('pg_ctl', ['-D', standbyData, '-w', 'promote']);
      const promotedAt = Date.now();
      for (const command of ['set server postgres/standby state ready', 'set server postgres/primary state maint']) {
        const answer = await haproxyCommand(socketPath, command);
        if (answer !== '') throw new Error(`haproxy refused "${command}": ${answer}`);
      }
      return { promotedAt, repointedAt: Date.now() };
    },
    async stop() {
      haproxy.kill('SIGTERM');
      await Promise.all([stopCluster(primaryData), stopCluster(standbyData)]);
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
