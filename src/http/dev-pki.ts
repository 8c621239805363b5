import 'reflect-metadata';
import { webcrypto, X509Certificate } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as x509 from '@peculiar/x509';
import { parseDistinguishedName } from './distinguished-name.ts';
import { type Psd2QcStatement, psd2QcStatements, QC_STATEMENTS_OID } from './psd2-qc-statements.ts';

/**
 * Development-only PKI: a local CA, a server certificate for localhost and client certificates for
 * demo TPPs. Production certificates come from files (TLS_CERT_FILE / TLS_KEY_FILE / TLS_CLIENT_CA_FILE).
 */

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

export interface PemPair {
  certPem: string;
  keyPem: string;
}

export interface DevPki {
  ca: PemPair;
  server: PemPair;
}

async function exportKeyPem(key: webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return `-----BEGIN PRIVATE KEY-----\n${der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .trimEnd()}\n-----END PRIVATE KEY-----\n`;
}

async function importCa(ca: PemPair) {
  const cert = new x509.X509Certificate(ca.certPem);
  const der = Buffer.from(ca.keyPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  const privateKey = await webcrypto.subtle.importKey('pkcs8', der, EC, false, ['sign']);
  return { cert, privateKey };
}

function serialNumber() {
  return Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)))
    .toString('hex')
    .replace(/^[89a-f]/, '1');
}

function validity(days: number) {
  const notBefore = new Date(Date.now() - 60_000);
  return { notBefore, notAfter: new Date(notBefore.getTime() + days * 86_400_000) };
}

async function createCa(): Promise<PemPair> {
  const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: 'CN=Assent Dev CA,O=Assent development',
    ...validity(3650),
    keys,
    signingAlgorithm: EC,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await exportKeyPem(keys.privateKey) };
}

/** Issues a leaf certificate signed by the dev CA. */
export async function issueCertificate(
  caPair: PemPair,
  options: {
    /** RFC 4514, any attribute of distinguished-name.ts (e.g. organizationIdentifier for a QWAC). */
    subject: string;
    dnsNames?: string[];
    ipAddresses?: string[];
    usage: 'server' | 'client';
    rsa?: boolean;
    /** Makes it QWAC-shaped: the qcStatements extension with the PSD2 roles. */
    psd2?: Psd2QcStatement;
    /** Another validity than 825 days from now (tests of expired or not yet valid certificates). */
    validity?: { notBefore: Date; notAfter: Date };
  },
): Promise<PemPair> {
  const ca = await importCa(caPair);
  const algorithm = options.rsa ? RSA : EC;
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const names = [
    ...(options.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(options.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    // By OID, so that attributes @peculiar/x509 has no name for (organizationIdentifier) can be written.
    subject: new x509.Name(
      parseDistinguishedName(options.subject).map((rdn) => Object.fromEntries(rdn.map(({ type, value }) => [type, [value]]))),
    ),
    issuer: ca.cert.subject,
    ...(options.validity ?? validity(825)),
    publicKey: keys.publicKey,
    signingKey: ca.privateKey,
    signingAlgorithm: EC,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([
        options.usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth,
      ]),
      ...(names.length > 0 ? [new x509.SubjectAlternativeNameExtension(names)] : []),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
      ...(options.psd2 ? [new x509.Extension(QC_STATEMENTS_OID, false, psd2QcStatements(options.psd2))] : []),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await exportKeyPem(keys.privateKey) };
}

/** A CRL of the dev CA revoking the given serial numbers (hex), valid for a week (PEM). */
export async function issueCrl(caPair: PemPair, revokedSerials: string[]): Promise<string> {
  const ca = await importCa(caPair);
  const thisUpdate = new Date(Date.now() - 60_000);
  const crl = await x509.X509CrlGenerator.create({
    issuer: ca.cert.subject,
    thisUpdate,
    nextUpdate: new Date(thisUpdate.getTime() + 7 * 86_400_000),
    entries: revokedSerials.map((serial) => ({ serialNumber: serial, revocationDate: thisUpdate })),
    signingKey: ca.privateKey,
    signingAlgorithm: EC,
  });
  return crl.toString('pem');
}

async function readPair(directory: string, name: string): Promise<PemPair | undefined> {
  try {
    return {
      certPem: await readFile(path.join(directory, `${name}.pem`), 'utf8'),
      keyPem: await readFile(path.join(directory, `${name}-key.pem`), 'utf8'),
    };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

export async function writePair(directory: string, name: string, pair: PemPair): Promise<void> {
  await mkdir(directory, { recursive: true });
  await writeFile(path.join(directory, `${name}.pem`), pair.certPem);
  await writeFile(path.join(directory, `${name}-key.pem`), pair.keyPem, { mode: 0o600 });
}

/** Loads `<dataDir>/tls`, creating the dev CA and a localhost server certificate on first start. */
export async function ensureDevPki(dataDir: string): Promise<DevPki> {
  const directory = path.join(dataDir, 'tls');
  let ca = await readPair(directory, 'ca');
  if (!ca) {
    ca = await createCa();
    await writePair(directory, 'ca', ca);
  }
  let server = await readPair(directory, 'server');
  if (!server || !new X509Certificate(server.certPem).checkIssued(new X509Certificate(ca.certPem))) {
    server = await issueCertificate(ca, {
      subject: 'CN=localhost',
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1', '::1'],
      usage: 'server',
      rsa: true,
    });
    await writePair(directory, 'server', server);
  }
  return { ca, server };
}
