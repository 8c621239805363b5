import { readFileSync, unlinkSync } from 'node:fs';
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';

/**
 * Embedded PGlite is one process's database: a second process opening the same directory works on its
 * own copy and its writes are lost (or corrupt the first's). Whoever opens it holds this lock file,
 * which names the holder's pid; a lock whose process is gone is stale and taken over.
 */

export interface LockHolder {
  pid: number;
  role: 'server' | 'admin-cli';
}

export class EmbeddedDatabaseHeld extends Error {
  override name = 'EmbeddedDatabaseHeld';
  readonly holder: LockHolder;
  constructor(holder: LockHolder, dataDir: string) {
    super(
      `the embedded database in ${path.join(dataDir, 'pglite')} is in use by ${holder.role === 'server' ? 'a running Assent server' : 'an admin command'} (pid ${holder.pid})`,
    );
    this.holder = holder;
  }
}

export const embeddedLockFile = (dataDir: string) => path.join(dataDir, 'pglite.lock');

/** True while a process with this id runs (EPERM: it runs under another user). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The live process holding the embedded database, if any. */
async function embeddedLockHolder(dataDir: string): Promise<LockHolder | undefined> {
  const text = await readFile(embeddedLockFile(dataDir), 'utf8').catch(() => undefined);
  if (!text) return undefined;
  try {
    const holder = JSON.parse(text) as LockHolder;
    return Number.isInteger(holder.pid) && holder.pid !== process.pid && isAlive(holder.pid) ? holder : undefined;
  } catch {
    return undefined;
  }
}

/** Takes the lock or throws EmbeddedDatabaseHeld; returns the release (also run if the process exits). */
export async function lockEmbeddedDatabase(dataDir: string, role: LockHolder['role']): Promise<() => Promise<void>> {
  const file = embeddedLockFile(dataDir);
  const mine = JSON.stringify({ pid: process.pid, role } satisfies LockHolder);
  await mkdir(dataDir, { recursive: true });
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      const handle = await open(file, 'wx', 0o600);
      await handle.writeFile(mine);
      await handle.close();
      const releaseOnExit = () => {
        try {
          if (readFileSync(file, 'utf8') === mine) unlinkSync(file);
        } catch {
          // Already removed: nothing to release.
        }
      };
      process.once('exit', releaseOnExit);
      return async () => {
        process.removeListener('exit', releaseOnExit);
        if ((await readFile(file, 'utf8').catch(() => '')) === mine) await unlink(file);
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = await embeddedLockHolder(dataDir);
      if (holder) throw new EmbeddedDatabaseHeld(holder, dataDir);
      await unlink(file).catch(() => undefined); // stale: its process is gone
    }
  }
  throw new Error(`could not take ${file}`);
}
