import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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

/** utime, stime, cutime and cstime of a process, from /proc (undefined once it has exited). */
function processTimes(pid: number): { ownMs: number; reapedMs: number } | undefined {
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
  return { ownMs: (fields[11]! + fields[12]!) * 10, reapedMs: (fields[13]! + fields[14]!) * 10 };
}

/**
 * CPU time the cluster spent so far: the postmaster, its live processes (backends, WAL writer,
 * checkpointer...) and the ones that exited (which the postmaster reaped into its own counters).
 */
function clusterCpuMs(postmaster: number): number {
  const own = processTimes(postmaster);
  if (!own) return 0;
  return postmasterChildren(postmaster).reduce((total, pid) => total + (processTimes(pid)?.ownMs ?? 0), own.ownMs + own.reapedMs);
}

/** What a cluster process does, from the title Postgres gives it (`postgres: autovacuum worker ...`). */
export type ProcessKind = 'client backends' | 'autovacuum' | 'WAL writer, checkpointer, background writer' | 'other';

export const PROCESS_KINDS: ProcessKind[] = ['client backends', 'autovacuum', 'WAL writer, checkpointer, background writer', 'other'];

function processKind(pid: number): ProcessKind {
  let title: string;
  try {
    title = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return 'other';
  }
  if (title.includes('autovacuum')) return 'autovacuum';
  if (/walwriter|checkpointer|background writer/.test(title)) return 'WAL writer, checkpointer, background writer';
  // A backend's title is `postgres: <user> <database> <host>(<port>) <state>`.
  if (/\(\d+\)|\[local\]/.test(title)) return 'client backends';
  return 'other';
}

/** The postmaster's live children, from the kernel's list (no walk over /proc). */
export function postmasterChildren(postmaster: number): number[] {
  try {
    return readFileSync(`/proc/${postmaster}/task/${postmaster}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** The cluster's CPU over a span, by kind of process, and how many of each kind started in it. */
export interface CpuSplit {
  ms: Record<ProcessKind | 'exited between samples, postmaster', number>;
  started: Record<ProcessKind, number>;
}

/**
 * Starts splitting the cluster's CPU by kind of process; the function returned ends the span. Backends
 * and autovacuum workers may exit within it, their time then going to the postmaster's reaped counters
 * with no kind: so the children are sampled every 100 ms, and only what a process used after its last
 * sample (and the postmaster's own time) stays unattributed.
 */
function splitCpu(postmaster: number): () => CpuSplit {
  const totalBefore = clusterCpuMs(postmaster);
  const seen = new Map<number, { kind: ProcessKind; first: number; last: number; started: boolean }>();
  const started = Object.fromEntries(PROCESS_KINDS.map((kind) => [kind, 0])) as CpuSplit['started'];
  let initial = true;
  const sample = () => {
    for (const pid of postmasterChildren(postmaster)) {
      const times = processTimes(pid);
      if (!times) continue;
      const known = seen.get(pid);
      if (known) {
        known.last = times.ownMs;
        // A process forked a moment ago still has the postmaster's title.
        if (known.kind === 'other') {
          const kind = processKind(pid);
          if (known.started) {
            started.other -= 1;
            started[kind] += 1;
          }
          known.kind = kind;
        }
      } else {
        const kind = processKind(pid);
        if (!initial) started[kind] += 1;
        seen.set(pid, { kind, first: initial ? times.ownMs : 0, last: times.ownMs, started: !initial });
      }
    }
    initial = false;
  };
  sample();
  const timer = setInterval(sample, 100);
  return () => {
    clearInterval(timer);
    sample();
    const ms = Object.fromEntries(PROCESS_KINDS.map((kind) => [kind, 0])) as CpuSplit['ms'];
    for (const { kind, first, last } of seen.values()) ms[kind] += last - first;
    const attributed = PROCESS_KINDS.reduce((sum, kind) => sum + ms[kind], 0);
    ms['exited between samples, postmaster'] = clusterCpuMs(postmaster) - totalBefore - attributed;
    return { ms, started };
  };
}

export interface PostgresCluster {
  url: string;
  /** CPU time of all the cluster's processes so far, in ms (the bench's database cost per operation). */
  cpuMs(): number;
  /** Starts splitting the cluster's CPU by kind of process; the function returned ends the span. */
  splitCpu(): () => CpuSplit;
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
    splitCpu: () => splitCpu(postmasterPid(data)),
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
