import { mkdir, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * DATA_DIR holds the embedded database, the dev keys, certificates and admin token, and the admin
 * endpoint file: start-up makes sure it is a folder this process can write before anything else uses
 * it, so a wrong one is one line instead of a stack from whichever write came first (or a hang).
 */

export class DataDirUnusable extends Error {
  override name = 'DataDirUnusable';
}

const WHY: Record<string, string> = {
  EEXIST: 'is a file, not a folder',
  ENOTDIR: 'lies under a file, not a folder',
  EACCES: 'is not writable by this user',
  EPERM: 'is not writable by this user',
  EROFS: 'is on a read-only file system',
  ENOENT: 'cannot be created there',
  ENOSPC: 'is on a full disk',
};

/**
 * mkdir -p one level at a time: Node's recursive mkdir never returns where a parent exists yet mkdir
 * answers ENOENT (a path under /proc), so each missing level is made, and refused, on its own.
 */
async function createFolder(dir: string): Promise<void> {
  try {
    await mkdir(dir);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      if ((await stat(dir)).isDirectory()) return;
      throw error;
    }
    const parent = path.dirname(dir);
    if (code !== 'ENOENT' || parent === dir) throw error;
    await createFolder(parent);
    await mkdir(dir);
  }
}

export async function ensureDataDir(dataDir: string): Promise<void> {
  try {
    await createFolder(dataDir);
    // Writable means a file can be made there: a read-only mount, or root on one, passes access checks.
    const probe = path.join(dataDir, `.write-check-${process.pid}`);
    await writeFile(probe, '');
    await unlink(probe);
  } catch (error) {
    const why = WHY[(error as NodeJS.ErrnoException).code ?? ''];
    if (!why) throw error;
    throw new DataDirUnusable(
      `DATA_DIR=${dataDir} ${why}: set DATA_DIR to a folder this user can write (it holds the embedded database, dev keys and certificates)`,
      { cause: error },
    );
  }
}
