import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import type { TppRole } from '../db/schema.ts';
import { ensureDevPki, issueCertificate, writePair } from '../http/dev-pki.ts';
import type { TrustedDirectory } from './trusted-directories.ts';

/**
 * Dev mode's stand-in for a national directory: a signing key under `<dataDir>/directory/`, trusted by
 * the server, and a CLI that issues software statements with it. Never in production.
 */

export const DEV_DIRECTORY_ISSUER = 'Assent Dev Directory';
const SSA_LIFETIME_SECONDS = 24 * 3600;

function directoryFolder(dataDir: string) {
  return path.join(dataDir, 'directory');
}

async function generateSigningJwk(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('PS256', { extractable: true });
  const jwk = await exportJWK(privateKey);
  return { ...jwk, kid: await calculateJwkThumbprint(jwk), alg: 'PS256', use: 'sig' };
}

function publicPart(jwk: JWK): JWK {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...rest } = jwk;
  return rest;
}

/** Creates the dev directory key on first use; returns the directory to trust (its public JWKS is a file). */
export async function ensureDevDirectory(dataDir: string): Promise<TrustedDirectory & { privateJwkFile: string }> {
  const folder = directoryFolder(dataDir);
  const privateJwkFile = path.join(folder, 'directory-private.jwk.json');
  const jwksFile = path.join(folder, 'jwks.json');
  let jwk: JWK;
  try {
    jwk = JSON.parse(await readFile(privateJwkFile, 'utf8')) as JWK;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    await mkdir(folder, { recursive: true, mode: 0o700 });
    jwk = await generateSigningJwk();
    await writeFile(privateJwkFile, `${JSON.stringify(jwk, null, 2)}\n`, { mode: 0o600 });
  }
  await writeFile(jwksFile, `${JSON.stringify({ keys: [publicPart(jwk)] }, null, 2)}\n`);
  return { issuer: DEV_DIRECTORY_ISSUER, jwks: jwksFile, privateJwkFile };
}

/** Signs software statement claims with the dev directory key (tests use it for expired or odd statements). */
export async function signDevSoftwareStatement(
  dataDir: string,
  claims: Record<string, unknown>,
  options: { lifetimeSeconds?: number; issuedAt?: number } = {},
): Promise<string> {
  const { privateJwkFile } = await ensureDevDirectory(dataDir);
  const jwk = JSON.parse(await readFile(privateJwkFile, 'utf8')) as JWK;
  const iat = options.issuedAt ?? Math.floor(Date.now() / 1000);
  return new SignJWT({ jti: randomUUID(), ...claims })
    .setProtectedHeader({ alg: 'PS256', kid: jwk.kid!, typ: 'JWT' })
    .setIssuer(DEV_DIRECTORY_ISSUER)
    .setIssuedAt(iat)
    .setExpirationTime(iat + (options.lifetimeSeconds ?? SSA_LIFETIME_SECONDS))
    .sign(await importJWK(jwk, 'PS256'));
}

export interface IssuedSoftwareStatement {
  softwareStatement: string;
  softwareId: string;
  orgId: string;
  /** Folder with private.jwk.json, client.pem / client-key.pem and ssa.jwt. */
  folder: string;
  privateJwkFile: string;
  certificateFile: string;
  certificateKeyFile: string;
  /** The subject of the client certificate, for tls_client_auth_subject_dn. */
  subjectDn: string;
}

/**
 * Onboards a pretend TPP in the dev directory: a signing key (its public half goes into the
 * statement as software_jwks), a dev-CA client certificate, and the signed software statement.
 */
export async function issueDevSoftwareStatement(
  dataDir: string,
  input: { name: string; roles: TppRole[]; redirectUris: string[]; logoUri?: string; orgId?: string; orgName?: string },
): Promise<IssuedSoftwareStatement> {
  const softwareId = randomUUID();
  const orgId = input.orgId ?? `org-${randomUUID()}`;
  const folder = path.join(dataDir, 'tpps', softwareId);
  await mkdir(folder, { recursive: true, mode: 0o700 });

  const jwk = await generateSigningJwk();
  const privateJwkFile = path.join(folder, 'private.jwk.json');
  await writeFile(privateJwkFile, `${JSON.stringify(jwk, null, 2)}\n`, { mode: 0o600 });

  const { ca } = await ensureDevPki(dataDir);
  const subjectDn = `CN=${softwareId},OU=${orgId},O=${input.name.replace(/[,=+<>#;"\\]/g, ' ')},C=GB`;
  await writePair(folder, 'client', await issueCertificate(ca, { subject: subjectDn, usage: 'client' }));

  const softwareStatement = await signDevSoftwareStatement(dataDir, {
    software_id: softwareId,
    org_id: orgId,
    org_name: input.orgName ?? input.name,
    software_client_name: input.name,
    ...(input.logoUri && { software_logo_uri: input.logoUri }),
    software_redirect_uris: input.redirectUris,
    software_roles: input.roles,
    software_jwks: { keys: [publicPart(jwk)] },
  });
  await writeFile(path.join(folder, 'ssa.jwt'), `${softwareStatement}\n`);
  return {
    softwareStatement,
    softwareId,
    orgId,
    folder,
    privateJwkFile,
    certificateFile: path.join(folder, 'client.pem'),
    certificateKeyFile: path.join(folder, 'client-key.pem'),
    subjectDn,
  };
}
