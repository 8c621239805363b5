import { execFile } from 'node:child_process';
import type { webcrypto } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { importJWK, type JWK } from 'jose';
import * as oidc from 'openid-client';
import { type Agent, fetch } from 'undici';
import type { TppRole } from '../../src/db/schema.ts';
import { issueDevSoftwareStatement, type IssuedSoftwareStatement } from '../../src/tpp/dev-directory.ts';
import { type TestAssent, tlsAgent } from './assent.ts';
import { fetchVia, type TestTpp } from './tpp.ts';
import { ENGINE_PATHS } from '../../src/protocol/routes.ts';

const run = promisify(execFile);

/** Runs the operator CLI (`npm run admin -- ...`) against the test server's database and data folder. */
export async function runAdmin(assent: TestAssent, args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, ['src/cli/admin.ts', args[0]!, '--json', ...args.slice(1)], {
    env: { ...process.env, DATABASE_URL: assent.databaseUrl, DATA_DIR: assent.dataDir, DEV_MODE: 'true', LOG_LEVEL: 'silent' },
  });
  return stdout;
}

/** A software statement from `directory:issue-ssa`, with the TPP's key and client certificate loaded. */
export interface OnboardingKit extends IssuedSoftwareStatement {
  privateJwk: JWK;
  privateKey: webcrypto.CryptoKey;
  certificate: { certPem: string; keyPem: string };
  agent: Agent;
}

export interface SsaOptions {
  name?: string;
  roles?: string;
  redirectUris?: string[];
  orgId?: string;
  /** The organisation's name in the statement; the software's name when not given. */
  orgName?: string;
}

const DEFAULT_REDIRECTS = ['https://acme.example/callback', 'https://acme.example/other'];

/** `npm run admin -- directory:issue-ssa ...`, exactly as an operator runs it. */
export async function issueSsaWithCli(assent: TestAssent, options: SsaOptions = {}): Promise<OnboardingKit> {
  const args = ['directory:issue-ssa', '--name', options.name ?? 'Acme Budgeting', '--roles', options.roles ?? 'AISP,PISP'];
  for (const uri of options.redirectUris ?? DEFAULT_REDIRECTS) args.push('--redirect-uri', uri);
  if (options.orgId) args.push('--org-id', options.orgId);
  return loadKit(assent, JSON.parse(await runAdmin(assent, args)) as IssuedSoftwareStatement);
}

/** The same statement as the CLI issues, made in-process (a CLI start per statement is slow). */
export async function issueSsa(assent: TestAssent, options: SsaOptions = {}): Promise<OnboardingKit> {
  return loadKit(
    assent,
    await issueDevSoftwareStatement(assent.dataDir, {
      name: options.name ?? 'Acme Budgeting',
      roles: (options.roles ?? 'AISP,PISP').split(',') as TppRole[],
      redirectUris: options.redirectUris ?? DEFAULT_REDIRECTS,
      ...(options.orgId && { orgId: options.orgId }),
      ...(options.orgName && { orgName: options.orgName }),
    }),
  );
}

async function loadKit(assent: TestAssent, issued: IssuedSoftwareStatement): Promise<OnboardingKit> {
  const privateJwk = JSON.parse(await readFile(issued.privateJwkFile, 'utf8')) as JWK;
  const certificate = {
    certPem: await readFile(issued.certificateFile, 'utf8'),
    keyPem: await readFile(issued.certificateKeyFile, 'utf8'),
  };
  return {
    ...issued,
    privateJwk,
    privateKey: (await importJWK(privateJwk, 'PS256')) as webcrypto.CryptoKey,
    certificate,
    agent: tlsAgent(assent.ca.certPem, certificate),
  };
}

/** The metadata a FAPI private_key_jwt + DPoP TPP sends with its statement. */
export function dpopClientMetadata(kit: OnboardingKit, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    software_statement: kit.softwareStatement,
    redirect_uris: ['https://acme.example/callback'],
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'PS256',
    dpop_bound_access_tokens: true,
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    ...extra,
  };
}

export interface RawResponse {
  status: number;
  body: Record<string, unknown>;
}

/** A registration endpoint call made by hand, to see exact statuses and error codes. */
export async function callRegistration(
  assent: TestAssent,
  agent: Agent,
  init: { method?: string; path?: string; json?: unknown; jwt?: string; token?: string },
): Promise<RawResponse> {
  const response = await fetch(`${assent.issuer}${init.path ?? ENGINE_PATHS.registration}`, {
    method: init.method ?? 'POST',
    dispatcher: agent,
    headers: {
      ...(init.json !== undefined && { 'content-type': 'application/json' }),
      ...(init.jwt !== undefined && { 'content-type': 'application/jwt' }),
      ...(init.token && { authorization: `Bearer ${init.token}` }),
    },
    ...(init.json !== undefined && { body: JSON.stringify(init.json) }),
    ...(init.jwt !== undefined && { body: init.jwt }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** openid-client configured as a registered TPP (private_key_jwt), in the shape the flow helpers take. */
export async function tppFromRegistration(
  assent: TestAssent,
  kit: OnboardingKit,
  clientId: string,
  redirectUri = 'https://acme.example/callback',
): Promise<TestTpp> {
  const config = await oidc.discovery(
    new URL(assent.issuer),
    clientId,
    { id_token_signed_response_alg: 'PS256' },
    oidc.PrivateKeyJwt({ key: kit.privateKey, kid: kit.privateJwk.kid! }),
    {
      [oidc.customFetch]: fetchVia(kit.agent),
    },
  );
  config[oidc.customFetch] = fetchVia(kit.agent);
  return {
    clientId,
    redirectUri,
    privateKey: kit.privateKey,
    kid: kit.privateJwk.kid!,
    certificate: kit.certificate,
    agent: kit.agent,
    config,
  };
}
