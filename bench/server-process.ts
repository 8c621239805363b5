import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Assent, or the plain engine it is measured against. */
export type Target = 'Assent' | 'bare engine';

const SCRIPTS: Record<Target, string> = {
  Assent: fileURLToPath(new URL('./server.ts', import.meta.url)),
  'bare engine': fileURLToPath(new URL('./bare-engine.ts', import.meta.url)),
};

export interface ServerProcess {
  port: number;
  issuer: string;
  child: ChildProcess;
  /** Resident set size now, in MiB (from /proc). */
  rssMiB(): number;
  /**
   * CPU time of the database cluster the process uses, so far, in ms: set by the bench when it runs the
   * cluster itself (shared by every process on it; the bare engine has none).
   */
  databaseCpuMs?: () => number;
  /** CPU time the process has used so far (user + system), in ms (from /proc). */
  cpuMs(): number;
  /** Database round trips the process made so far, by statement (Assent only: bench/server.ts counts them). */
  roundTrips(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

/** Starts the target's server as its own process and waits for its ready line. */
export async function startServer(target: Target, env: Record<string, string>, nodeFlags: string[] = []): Promise<ServerProcess> {
  const child = spawn(process.execPath, [...nodeFlags, SCRIPTS[target]], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const counted: ((byStatement: Record<string, number>) => void)[] = [];
  const ready = await new Promise<{ port: number; issuer: string }>((resolve, reject) => {
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      for (const line of buffered.split('\n').slice(0, -1)) {
        if (line.includes('"bench server ready"')) resolve(JSON.parse(line) as { port: number; issuer: string });
        if (line.includes('"bench round trips"'))
          counted.shift()?.((JSON.parse(line) as { byStatement: Record<string, number> }).byStatement);
      }
      buffered = buffered.slice(buffered.lastIndexOf('\n') + 1);
    });
    void exited.then(() => reject(new Error(`bench server exited before it was ready:\n${stderr}`)));
  });
  return {
    ...ready,
    child,
    rssMiB() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
      return Math.round(kib / 1024);
    },
    cpuMs() {
      const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime and stime, in clock ticks of 10 ms (USER_HZ is 100 on Linux).
      return (Number(fields[11]) + Number(fields[12])) * 10;
    },
    roundTrips() {
      const answer = new Promise<Record<string, number>>((resolve) => counted.push(resolve));
      child.kill('SIGUSR2');
      return answer;
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
