import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port.ts';

/**
 * A throwaway Postgres cluster for a test run: initdb into a temp folder, start on a free loopback
 * port, stop and delete on exit. As root, the server runs as the `postgres` user.
 */

export function postgresUserCommand(command: string, args: string[]): [string, string[]] {
  const root = process.getuid?.() === 0;
  return root ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
}

export function asPostgresUser(command: string, args: string[]) {
  const [file, argv] = postgresUserCommand(command, args);
  execFileSync(file, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Without blocking the event loop, so a test's requests keep running while the server restarts. */
export async function asPostgresUserAsync(command: string, args: string[]) {
  const [file, argv] = postgresUserCommand(command, args);
  await promisify(execFile)(file, argv);
}

/** The first line of postmaster.pid. */
export function postmasterPid(data: string): number {
  return Number(readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
}

/** utime, stime, cutime, cstime and the parent of a process, from /proc (undefined once it has exited). */
export function processTimes(pid: number | string): { ownMs: number; reapedMs: number; parent: number } | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const fields = stat
    .slice(stat.lastIndexOf(')') + 2)
    .split(' ')
    .map(Number);
  // Clock ticks of 10 ms (USER_HZ is 100 on Linux).
  return { parent: fields[1]!, ownMs: (fields[11]! + fields[12]!) * 10, reapedMs: (fields[13]! + fields[14]!) * 10 };
}

/**
 * CPU time the cluster spent so far: the postmaster, its live processes (backends, WAL writer,
 * checkpointer...) and the ones that exited (which the postmaster reaped into its own counters).
 */
function clusterCpuMs(postmaster: number): number {
  const own = processTimes(postmaster);
  if (!own) return 0;
  let total = own.ownMs + own.reapedMs;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const child = processTimes(entry);
    if (child?.parent === postmaster) total += child.ownMs;
  }
  return total;
}

export interface PostgresCluster {
  url: string;
  /** CPU time of all the cluster's processes so far, in ms (the bench's database cost per operation). */
  cpuMs(): number;
  /** `pg_ctl restart -m fast`: every connection is terminated (57P01), then the server accepts again. */
  restart(): Promise<void>;
  /** `pg_ctl stop -m fast`: the server is gone (connections refused) until startServer(). */
  stopServer(): Promise<void>;
  startServer(): Promise<void>;
  /** SIGSTOP to the postmaster: connections are accepted by the kernel and never answered (a hung host). */
  freeze(): void;
  /** SIGCONT: the postmaster answers again. */
  thaw(): void;
  /** Stops the server for good and deletes the cluster. */
  stop(): void;
}

/**
 * A Debian system command (haproxy, pgbouncer): from PATH, or from /usr/sbin, which a user's PATH often
 * lacks. Missing, it says which package to install instead of failing to spawn.
 */
export function systemCommand(name: string): string {
  const folders = [...(process.env.PATH ?? '').split(path.delimiter), '/usr/sbin'];
  const found = folders
    .filter(Boolean)
    .map((folder) => path.join(folder, name))
    .find((candidate) => existsSync(candidate));
  if (!found) throw new Error(`${name} is not installed (apt-get install ${name}); the failover and pooler tests run it`);
  return found;
}

/** A temp folder the server's user owns (as root, `postgres`), for clusters and their companions' files. */
export function postgresUserDirectory(prefix: string): string {
  const directory = mkdtempSync(path.join(tmpdir(), prefix));
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(directory, uid, gid);
  }
  return directory;
}

/** `settings`: extra `name=value` server settings (the benchmark sizes shared_buffers). */
export async function startPostgresCluster(settings: string[] = []): Promise<PostgresCluster> {
  const directory = postgresUserDirectory('assent-pg-');
  const data = path.join(directory, 'data');
  asPostgresUser('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
  const port = await freePort();
  const options = `-p ${port} -k ${directory} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300${settings.map((setting) => ` -c ${setting}`).join('')}`;
  const log = path.join(directory, 'log');
  asPostgresUser('pg_ctl', ['-D', data, '-o', options, '-l', log, '-w', 'start']);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    cpuMs: () => clusterCpuMs(postmasterPid(data)),
    restart: () => asPostgresUserAsync('pg_ctl', ['-D', data, '-o', options, '-l', log, '-m', 'fast', '-w', 'restart']),
    stopServer: () => asPostgresUserAsync('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']),
    startServer: () => asPostgresUserAsync('pg_ctl', ['-D', data, '-o', options, '-l', log, '-w', 'start']),
    freeze: () => process.kill(postmasterPid(data), 'SIGSTOP'),
    thaw: () => process.kill(postmasterPid(data), 'SIGCONT'),
    stop() {
      try {
        asPostgresUser('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(directory, { recursive: true, force: true });
      }
    },
  };
}
