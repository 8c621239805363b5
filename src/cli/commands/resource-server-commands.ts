import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import type { Config } from '../../config.ts';
import { UsageError } from '../admin-command.ts';

async function generatedKey() {
  const { privateKey, publicKey } = await generateKeyPair('PS256', { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  return {
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'PS256' },
    publicJwk: { ...publicJwk, kid, alg: 'PS256', use: 'sig' },
  };
}

/**
 * `rs:create` on the command line takes `--jwks-file` (read here, so the server never needs the
 * operator's files) and, in dev mode with neither a JWKS nor a subject DN, generates the key pair here:
 * the private key goes to DATA_DIR/resource-servers/<client id>.jwk.json and never leaves this machine.
 */
export const createResourceServerCli = {
  options: { 'jwks-file': { type: 'string' as const } },
  async prepare(values: Record<string, unknown>, config: Config) {
    const { 'jwks-file': jwksFile, ...input } = values;
    if (typeof jwksFile === 'string') return { input: { ...input, jwks: await readFile(jwksFile, 'utf8') } };
    if (input['subject-dn'] !== undefined || input.subjectDn !== undefined) return { input };
    if (!config.devMode) throw new UsageError('--jwks-file or --subject-dn is required outside dev mode');
    const key = await generatedKey();
    return {
      input: { ...input, jwks: JSON.stringify({ keys: [key.publicJwk] }) },
      async after(result: { client_id: string }) {
        const directory = path.join(config.dataDir, 'resource-servers');
        await mkdir(directory, { recursive: true, mode: 0o700 });
        const file = path.join(directory, `${result.client_id}.jwk.json`);
        await writeFile(file, `${JSON.stringify(key.privateJwk as JWK, null, 2)}\n`, { mode: 0o600 });
        return { ...result, private_key_file: file };
      },
    };
  },
};
