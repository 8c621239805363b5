import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * Where a running server's admin API is, written by the server into DATA_DIR (mode 0600) and removed
 * when it stops, so the CLI on the same machine finds it: its URL, and the certificate to pin (no CA
 * needed, the file itself is the trust anchor).
 */
export interface AdminEndpoint {
  pid: number;
  url: string;
  /** The listener's certificate (PEM); absent when it speaks plain HTTP on loopback (behind a TLS proxy). */
  certificatePem?: string;
}

export const adminEndpointFile = (dataDir: string) => path.join(dataDir, 'admin-endpoint.json');

export async function publishAdminEndpoint(dataDir: string, endpoint: AdminEndpoint): Promise<() => Promise<void>> {
  const file = adminEndpointFile(dataDir);
  await mkdir(dataDir, { recursive: true });
  await writeFile(file, JSON.stringify(endpoint), { mode: 0o600 });
  return async () => {
    const current = await readAdminEndpoint(dataDir);
    if (current?.pid === endpoint.pid) await rm(file, { force: true });
  };
}

export async function readAdminEndpoint(dataDir: string): Promise<AdminEndpoint | undefined> {
  const text = await readFile(adminEndpointFile(dataDir), 'utf8').catch(() => undefined);
  if (!text) return undefined;
  try {
    return JSON.parse(text) as AdminEndpoint;
  } catch {
    return undefined;
  }
}
