import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, type JWK } from 'jose';
import { createResourceServer, type ResourceServerAuth } from '../../bank/resource-servers.ts';
import { type AdminCommand, UsageError } from '../admin-command.ts';

async function generatedKey() {
  const { privateKey, publicKey } = await generateKeyPair('PS256', { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  return { privateJwk: { ...(await exportJWK(privateKey)), kid, alg: 'PS256' }, publicJwk: { ...publicJwk, kid, alg: 'PS256', use: 'sig' } };
}

const createResourceServerCommand: AdminCommand = {
  name: 'rs:create',
  usage: 'rs:create --name <name> (--jwks-file <public jwks.json> | --subject-dn <DN>)',
  summary: 'registers a bank resource server (introspection and bank consent API); in dev mode without keys, generates one',
  options: { name: { type: 'string' }, 'jwks-file': { type: 'string' }, 'subject-dn': { type: 'string' } },
  async run({ config, db, out }, { values }) {
    const name = values.name;
    const jwksFile = values['jwks-file'];
    const subjectDn = values['subject-dn'];
    if (typeof name !== 'string') throw new UsageError('--name is required');
    if (jwksFile !== undefined && subjectDn !== undefined) throw new UsageError('give --jwks-file or --subject-dn, not both');
    let auth: ResourceServerAuth;
    let privateJwk: JWK | undefined;
    if (typeof subjectDn === 'string') {
      auth = { method: 'tls_client_auth', subjectDn };
    } else if (typeof jwksFile === 'string') {
      auth = { method: 'private_key_jwt', jwks: JSON.parse(await readFile(jwksFile, 'utf8')) as { keys: JWK[] } };
    } else if (config.devMode) {
      const key = await generatedKey();
      privateJwk = key.privateJwk;
      auth = { method: 'private_key_jwt', jwks: { keys: [key.publicJwk] } };
    } else {
      throw new UsageError('--jwks-file or --subject-dn is required outside dev mode');
    }
    const { clientId } = await createResourceServer(db, { name, auth, operator: process.env.USER ?? 'operator' });
    const result: Record<string, string> = { client_id: clientId, token_endpoint_auth_method: auth.method };
    if (privateJwk) {
      const directory = path.join(config.dataDir, 'resource-servers');
      await mkdir(directory, { recursive: true, mode: 0o700 });
      result.private_key_file = path.join(directory, `${clientId}.jwk.json`);
      await writeFile(result.private_key_file, `${JSON.stringify(privateJwk, null, 2)}\n`, { mode: 0o600 });
    }
    out(JSON.stringify(result, null, 2));
  },
};

export const resourceServerCommands = [createResourceServerCommand];
