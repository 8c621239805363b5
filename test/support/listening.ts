import type { ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * Waits up to 10 s for a companion process just spawned (haproxy, pgbouncer) to accept TCP connections
 * on `port`. One that exits first or never listens is killed, and the error quotes what it wrote to
 * stderr by then (read from here on: call this in the same turn as the spawn, before its first output).
 */
export async function untilListening(port: number, child: ChildProcess, name: string): Promise<void> {
  let errors = '';
  child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString()));
  for (let waited = 0; waited <= 10_000 && child.exitCode === null; waited += 50) {
    if (await accepts(port)) return;
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`${name} did not listen on ${port}${child.exitCode === null ? '' : ` (exited with ${child.exitCode})`}: ${errors}`);
}
