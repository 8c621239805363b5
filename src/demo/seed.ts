import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { calculateJwkThumbprint, decodeJwt, exportJWK, generateKeyPair } from 'jose';
import type { ClientMetadata } from 'oidc-provider';
import type { Db } from '../db/connect.ts';
import { type BankAccount, openAccount, setAvailableBalance } from '../customers/account-directory.ts';
import {
  createCustomer,
  enrolTotp,
  findCustomer,
  readTotpSecret,
  removeCustomer,
  type TotpEnrolment,
} from '../customers/customer-service.ts';
import { otpauthUri } from '../customers/totp.ts';
import { issueCertificate, type PemPair, writePair } from '../http/dev-pki.ts';
import { clientExists, saveClient } from '../store/clients.ts';
import { CONSENT_SCOPES, SCOPE } from '../protocol/scopes.ts';
import { signDevSoftwareStatement } from '../tpp/dev-directory.ts';
import { TPP_ROLES } from '../tpp/roles.ts';
import type { SoftwareStatementClaims } from '../tpp/software-statement.ts';
import { getTppProfile, recordRegistration } from '../tpp/tpp-service.ts';

/**
 * Dev-mode demo data: a customer and a TPP client whose credentials are written under
 * `<dataDir>/demo/` (git-ignored), never printed: the console only says where they are.
 */

export const DEMO_CUSTOMER = 'demo';
export const DEMO_CLIENT_ID = 'demo-tpp';
export const DEMO_REDIRECT_URI = 'https://localhost:9443/callback';
/** The demo customer's euro account: the one a Berlin Group consent names (npm run demo -- --berlin-group). */
export const DEMO_EURO_IBAN = 'GB33BUKB20201555555555';
const DEMO_ACCOUNTS: Omit<BankAccount, 'id' | 'customerId'>[] = [
  {
    schemeName: 'UK.OBIE.SortCodeAccountNumber',
    identification: '40400411111111',
    name: 'Everyday Current Account',
    currency: 'GBP',
    accountType: 'Personal',
    accountSubtype: 'CurrentAccount',
  },
  {
    schemeName: 'UK.OBIE.SortCodeAccountNumber',
    identification: '40400422222222',
    name: 'Rainy Day Saver',
    currency: 'GBP',
    accountType: 'Personal',
    accountSubtype: 'Savings',
  },
  {
    schemeName: 'UK.OBIE.IBAN',
    identification: DEMO_EURO_IBAN,
    name: 'Euro Travel Account',
    currency: 'EUR',
    accountType: 'Personal',
    accountSubtype: 'CurrentAccount',
  },
];
const DEMO_TPP_SUBJECT = 'CN=demo-tpp,O=Demo TPP,C=GB';
const DEMO_TPP_NAME = 'Demo TPP';

async function exists(file: string) {
  return readFile(file).then(
    () => true,
    () => false,
  );
}

/**
 * The demo customer's TOTP secret from its credentials file, when `username` is the demo customer and
 * the file exists: lets dev tooling show the current code without opening the embedded database.
 */
export async function demoTotpSecret(dataDir: string, username: string): Promise<string | undefined> {
  if (username !== DEMO_CUSTOMER) return undefined;
  const text = await readFile(path.join(dataDir, 'demo', 'customer.json'), 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  const secret: unknown = text && JSON.parse(text).totpSecret;
  return typeof secret === 'string' ? secret : undefined;
}

/** The demo customer with both SCA factors; an existing one from before TOTP existed gets enrolled. */
async function seedCustomer(db: Db, directory: string, totpKey: Buffer, authenticatorIssuer: string): Promise<TotpEnrolment> {
  const file = path.join(directory, 'customer.json');
  const existing = await findCustomer(db, DEMO_CUSTOMER);
  if (existing && (await exists(file))) {
    const secret = await readTotpSecret(db, totpKey, DEMO_CUSTOMER);
    if (secret) return { secret, otpauthUri: otpauthUri(secret, DEMO_CUSTOMER, authenticatorIssuer) };
    const totp = await enrolTotp(db, totpKey, existing, { kind: 'system', id: null }, authenticatorIssuer);
    const saved = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    await writeFile(file, `${JSON.stringify({ ...saved, totpSecret: totp.secret, otpauthUri: totp.otpauthUri }, null, 2)}\n`, {
      mode: 0o600,
    });
    return totp;
  }
  const password = randomBytes(12).toString('base64url');
  await removeCustomer(db, DEMO_CUSTOMER);
  const { customer, totp } = await createCustomer(db, totpKey, {
    username: DEMO_CUSTOMER,
    displayName: 'Demo Customer',
    password,
    actor: { kind: 'system', id: null },
    authenticatorIssuer,
  });
  for (const account of DEMO_ACCOUNTS) {
    // A demo balance, so that funds confirmation has something to answer from.
    await setAvailableBalance(db, (await openAccount(db, { ...account, customerId: customer.id })).id, '2500.00');
  }
  await writeFile(
    file,
    `${JSON.stringify({ username: DEMO_CUSTOMER, password, totpSecret: totp.secret, otpauthUri: totp.otpauthUri }, null, 2)}\n`,
    { mode: 0o600 },
  );
  return totp;
}

/**
 * The demo TPP as an onboarded TPP, with a dev-directory statement for every role: the operator's
 * tools (tpp:list, tpp:suspend demo-tpp) then find it like any TPP that registered itself.
 */
async function seedTppRecord(db: Db, dataDir: string, client: ClientMetadata) {
  if (await getTppProfile(db, DEMO_CLIENT_ID)) return;
  const jwt = await signDevSoftwareStatement(dataDir, {
    software_id: DEMO_CLIENT_ID,
    org_id: 'demo-org',
    org_name: 'Demo TPP Ltd',
    software_client_name: DEMO_TPP_NAME,
    software_redirect_uris: [DEMO_REDIRECT_URI],
    software_roles: [...TPP_ROLES],
  });
  const statement = { jwt, claims: decodeJwt(jwt) as SoftwareStatementClaims };
  await db.transaction().execute((trx) => recordRegistration(trx, { clientId: DEMO_CLIENT_ID, statement, client }));
}

async function seedTpp(db: Db, dataDir: string, directory: string, ca: PemPair) {
  const keyFile = path.join(directory, 'tpp-private.jwk.json');
  if ((await clientExists(db, DEMO_CLIENT_ID)) && (await exists(keyFile))) {
    await seedTppRecord(db, dataDir, { client_id: DEMO_CLIENT_ID });
    return;
  }
  const { privateKey, publicKey } = await generateKeyPair('PS256', { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  await writeFile(keyFile, `${JSON.stringify({ ...(await exportJWK(privateKey)), kid, alg: 'PS256' }, null, 2)}\n`, { mode: 0o600 });
  await writePair(directory, 'tpp-client', await issueCertificate(ca, { subject: DEMO_TPP_SUBJECT, usage: 'client' }));
  const client: ClientMetadata = {
    client_id: DEMO_CLIENT_ID,
    client_name: DEMO_TPP_NAME,
    redirect_uris: [DEMO_REDIRECT_URI],
    grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
    response_types: ['code'],
    scope: [SCOPE.openid, ...CONSENT_SCOPES].join(' '),
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'PS256',
    dpop_bound_access_tokens: true,
    jwks: { keys: [{ ...publicJwk, kid, alg: 'PS256', use: 'sig' }] },
  };
  await saveClient(db, client);
  await seedTppRecord(db, dataDir, client);
}

/**
 * Creates the demo customer and TPP once; later starts reuse them. Returns the folder holding their
 * credentials and the demo customer's TOTP enrolment (dev mode prints it at start).
 */
/** `authenticatorIssuer`: the bank's name, as the demo customer's authenticator app shows it. */
export async function seedDemo(
  db: Db,
  dataDir: string,
  ca: PemPair,
  totpKey: Buffer,
  authenticatorIssuer: string,
): Promise<{ directory: string; totp: TotpEnrolment }> {
  const directory = path.join(dataDir, 'demo');
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const totp = await seedCustomer(db, directory, totpKey, authenticatorIssuer);
  await seedTpp(db, dataDir, directory, ca);
  return { directory, totp };
}
