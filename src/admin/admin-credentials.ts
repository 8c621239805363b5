import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** The dev-mode admin token lives here (mode 0600), for the CLI on the same machine to read. */
export const adminTokenFile = (dataDir: string) => path.join(dataDir, 'admin-token');

/**
 * The admin API's bearer token: ADMIN_TOKEN, or in dev mode one generated once into DATA_DIR. Outside
 * dev mode without ADMIN_TOKEN there is none (then only an admin client certificate opens the API).
 */
export async function resolveAdminToken(options: {
  configured: string | undefined;
  devMode: boolean;
  dataDir: string;
}): Promise<string | undefined> {
  if (options.configured) return options.configured;
  if (!options.devMode) return undefined;
  const file = adminTokenFile(options.dataDir);
  const existing = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (existing?.trim()) return existing.trim();
  const token = randomBytes(32).toString('base64url');
  await mkdir(options.dataDir, { recursive: true });
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  return token;
}

/** Constant-time comparison of a presented token with the expected one (digests first, so lengths never leak). */
const digest = (value: string) => createHash('sha256').update(value).digest();

export function tokenMatches(presented: string, expected: string): boolean {
  return timingSafeEqual(digest(presented), digest(expected));
}
