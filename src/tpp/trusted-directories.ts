import { readFile } from 'node:fs/promises';
import type { JSONWebKeySet } from 'jose';
import type { OutboundFetch } from '../http/outbound-fetch.ts';

/** A software statement issuer the bank trusts, with where its public keys are published. */
export interface TrustedDirectory {
  /** The `iss` of the statements it signs. */
  issuer: string;
  /** An https URL (fetched through the SSRF guard) or a path to a JWKS file. */
  jwks: string;
}

export class DirectoryKeysUnavailable extends Error {
  override name = 'DirectoryKeysUnavailable';
}

export interface DirectoryKeyring {
  isTrusted(issuer: string): boolean;
  /** The directory's JWKS, refreshed when older than the refresh interval or when `fresh` is asked for. */
  keysFor(issuer: string, options?: { fresh?: boolean }): Promise<JSONWebKeySet>;
}

function asJwks(value: unknown, source: string): JSONWebKeySet {
  const keys = (value as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new DirectoryKeysUnavailable(`${source} is not a JWKS`);
  return { keys: keys.filter((key) => typeof key === 'object' && key !== null && !('d' in key)) };
}

/** Keys per directory, cached for `refreshSeconds`; a stale copy is used while the source is unreachable. */
export function createDirectoryKeyring(directories: TrustedDirectory[], outbound: OutboundFetch, refreshSeconds: number): DirectoryKeyring {
  const byIssuer = new Map(directories.map((directory) => [directory.issuer, directory]));
  const cache = new Map<string, { jwks: JSONWebKeySet; loadedAt: number }>();
  // Refetching on an unknown kid is allowed at most this often, so forged kids cannot hammer a directory.
  const minimumRefetchMs = 30_000;

  async function load(directory: TrustedDirectory): Promise<JSONWebKeySet> {
    if (/^https:\/\//i.test(directory.jwks)) return asJwks(await outbound.json(directory.jwks), directory.jwks);
    return asJwks(JSON.parse(await readFile(directory.jwks, 'utf8')), directory.jwks);
  }

  return {
    isTrusted: (issuer) => byIssuer.has(issuer),
    async keysFor(issuer, options = {}) {
      const directory = byIssuer.get(issuer);
      if (!directory) throw new DirectoryKeysUnavailable(`${issuer} is not a trusted directory`);
      const cached = cache.get(issuer);
      const age = cached ? Date.now() - cached.loadedAt : Infinity;
      const wanted = age > refreshSeconds * 1000 || (options.fresh === true && age > minimumRefetchMs);
      if (cached && !wanted) return cached.jwks;
      try {
        const jwks = await load(directory);
        cache.set(issuer, { jwks, loadedAt: Date.now() });
        return jwks;
      } catch (error) {
        if (cached) return cached.jwks;
        throw new DirectoryKeysUnavailable(`the keys of directory ${issuer} could not be loaded`, { cause: error });
      }
    },
  };
}
