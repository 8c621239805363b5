import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import * as oidc from 'openid-client';
import type { TestTpp } from './tpp.ts';
import { freePort } from './free-port.ts';

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

export interface AssentProcess {
  port: number;
  child: ChildProcess;
  /** Every JSON log line the process wrote so far. */
  logs: Record<string, unknown>[];
  /** The lines it wrote for a person (dev mode's ready lines), not JSON. */
  text: string[];
  /** Resolves with the exit code once the process ended. */
  exited: Promise<number | null>;
  /** Resolves once it logged that it is ready; rejects if it exits first. */
  ready: Promise<void>;
  stop(): Promise<void>;
}

/**
 * The environment of a process a test starts: only what it is given, over a clean base. Whatever the
 * caller exported (PORT, OPS_PORT, DATABASE_URL, ADMIN_URL, ...) never leaks into it.
 */
export function hermeticEnv(env: Record<string, string>): Record<string, string> {
  return { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ADMIN_PORT: '0', ...env };
}

/** `node src/main.ts` as a separate process, resolved once it logged that it is ready. */
export async function spawnAssent(env: Record<string, string>): Promise<AssentProcess> {
  const started = await launchAssent(env);
  await started.ready;
  return started;
}

/** `node src/main.ts` as a separate process, returned at once (start-up still under way). */
export async function launchAssent(env: Record<string, string>): Promise<AssentProcess> {
  const port = env.PORT ? Number(env.PORT) : await freePort();
  const child = spawn(process.execPath, [MAIN], {
    env: hermeticEnv({ LOG_LEVEL: 'info', ...env, PORT: String(port) }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const text: string[] = [];
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = new Promise<void>((resolve, reject) => {
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (!line.startsWith('{')) {
          text.push(line);
          continue;
        }
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (entry.msg === 'Assent is ready') resolve();
      }
    });
    void exited.then((code) => reject(new Error(`assent exited with ${code} before it was ready: ${stderr}`)));
  });
  // Callers that never wait for readiness must not see an unhandled rejection when the process ends.
  ready.catch(() => {});
  return {
    port,
    child,
    logs,
    text,
    exited,
    ready,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Sends the TPP's calls to one path to another instance: same issuer (and DPoP `htu`), different process. */
export function routeTo(tpp: TestTpp, endpointPath: string, port: number) {
  const send = tpp.config[oidc.customFetch]!;
  tpp.config[oidc.customFetch] = (url, options) => {
    const target = new URL(url);
    if (target.pathname === endpointPath) target.port = String(port);
    return send(target.href, options);
  };
}
