import 'reflect-metadata';
import { X509Certificate } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { X509Certificate as ParsedCertificate, X509Crl } from '@peculiar/x509';

/**
 * Whom Assent trusts to vouch for a TPP's eIDAS certificates (QWACs and QSealCs): the CAs of
 * EIDAS_TRUSTED_CA_FILE, each one a trust anchor (list the QTSPs' issuing CAs), and the CRLs of
 * EIDAS_CRL_FILE, each signed by one of those CAs. No network is reachable from the server, so
 * revocation is what the configured CRLs say: the files are read at start-up (a bad file stops the start)
 * and read again when either file changes, looked at no more often than every `recheckMs` (30 s), so an
 * operator replaces a CRL in place and every instance follows within half a minute. A file that turns
 * bad later keeps the last good lists in force and is reported through `onReloadFailure`.
 */

export interface EidasTrustFiles {
  /** PEM bundle of the CAs that issue QWACs and QSealCs; undefined trusts none (every eIDAS certificate is refused). */
  caFile: string | undefined;
  /** PEM (one or more `X509 CRL` or `CRL` blocks) or one DER CRL of those CAs. */
  crlFile: string | undefined;
}

export interface EidasTrustSnapshot {
  cas: readonly X509Certificate[];
  /** Revoked serial numbers (upper-case hex, no leading zeros) by the SHA-256 fingerprint of the CA that revoked them. */
  revoked: ReadonlyMap<string, ReadonlySet<string>>;
  /** When this snapshot was read (for logs). */
  loadedAt: Date;
}

export interface EidasTrust {
  /** The CAs and revocations in force now. */
  current(): Promise<EidasTrustSnapshot>;
  /**
   * The last snapshot read, at once, for the provider's synchronous client authentication hooks
   * (oidc/eidas-client-auth.ts); a due look at the files starts in the background, as `current` would.
   */
  latest(): EidasTrustSnapshot;
}

export class EidasTrustFileError extends Error {
  override name = 'EidasTrustFileError';
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

function pemBlocks(text: string, ...labels: string[]): Buffer[] {
  return [...text.matchAll(PEM_BLOCK)]
    .filter((match) => labels.includes(match[1]!))
    .map((match) => Buffer.from(match[2]!.replace(/\s/g, ''), 'base64'));
}

/** Serial numbers compared as upper-case hex without leading zeros (Node prints them so; CRLs may pad). */
export function normalSerial(hex: string): string {
  return hex.toUpperCase().replace(/^0+(?=.)/, '');
}

function readCas(text: string, file: string): X509Certificate[] {
  const cas = pemBlocks(text, 'CERTIFICATE').map((der, index) => {
    try {
      return new X509Certificate(der);
    } catch (cause) {
      throw new EidasTrustFileError(`EIDAS_TRUSTED_CA_FILE ${file}: certificate ${index + 1} does not parse`, { cause });
    }
  });
  if (cas.length === 0) throw new EidasTrustFileError(`EIDAS_TRUSTED_CA_FILE ${file}: no PEM certificate in it`);
  const notCa = cas.find((ca) => !ca.ca);
  if (notCa)
    throw new EidasTrustFileError(`EIDAS_TRUSTED_CA_FILE ${file}: ${notCa.subject.replaceAll('\n', ', ')} is not a CA certificate`);
  return cas;
}

/** Whether the CA's key signed the CRL; a CA of another key type is simply not its signer. */
async function signedBy(crl: X509Crl, ca: X509Certificate): Promise<boolean> {
  try {
    return await crl.verify({ publicKey: new ParsedCertificate(ca.raw) });
  } catch {
    // WebCrypto refuses to verify with a key of another algorithm (an RSA CA and an ECDSA CRL): not this CA.
    return false;
  }
}

async function readRevocations(bytes: Buffer, file: string, cas: readonly X509Certificate[]): Promise<Map<string, Set<string>>> {
  const text = bytes.toString('latin1');
  const ders = text.includes('-----BEGIN') ? pemBlocks(text, 'X509 CRL', 'CRL') : [bytes];
  if (ders.length === 0) throw new EidasTrustFileError(`EIDAS_CRL_FILE ${file}: no X509 CRL (or CRL) block in it`);
  const revoked = new Map<string, Set<string>>();
  for (const [index, der] of ders.entries()) {
    let crl: X509Crl;
    try {
      crl = new X509Crl(der);
    } catch (cause) {
      throw new EidasTrustFileError(`EIDAS_CRL_FILE ${file}: CRL ${index + 1} does not parse`, { cause });
    }
    let signer: X509Certificate | undefined;
    for (const ca of cas) {
      if (!signer && (await signedBy(crl, ca))) signer = ca;
    }
    if (!signer) throw new EidasTrustFileError(`EIDAS_CRL_FILE ${file}: CRL ${index + 1} (${crl.issuer}) is not signed by a trusted CA`);
    const serials = revoked.get(signer.fingerprint256) ?? new Set<string>();
    for (const entry of crl.entries) serials.add(normalSerial(entry.serialNumber));
    revoked.set(signer.fingerprint256, serials);
  }
  return revoked;
}

/** Reads both files once: the snapshot, or an EidasTrustFileError naming the variable, the file and the fault. */
export async function readEidasTrust(files: EidasTrustFiles): Promise<EidasTrustSnapshot> {
  const cas = files.caFile ? readCas(await readFile(files.caFile, 'utf8'), files.caFile) : [];
  const revoked = files.crlFile ? await readRevocations(await readFile(files.crlFile), files.crlFile, cas) : new Map<string, Set<string>>();
  return { cas, revoked, loadedAt: new Date() };
}

/** What identifies a file's content cheaply: its modification time and size (a replacement changes either). */
async function versionOf(file: string | undefined): Promise<string> {
  if (!file) return '';
  const info = await stat(file);
  return `${info.mtimeMs}:${info.size}`;
}

export interface EidasTrustOptions {
  /** The least time between two looks at the files (ms). */
  recheckMs?: number;
  onReloadFailure?: (error: unknown) => void;
}

/** Loads the files now (throws on a bad one) and returns the trust that follows their changes. */
export async function loadEidasTrust(files: EidasTrustFiles, options: EidasTrustOptions = {}): Promise<EidasTrust> {
  const recheckMs = options.recheckMs ?? 30_000;
  const versions = async () => `${await versionOf(files.caFile)}|${await versionOf(files.crlFile)}`;
  let version = await versions();
  let snapshot = await readEidasTrust(files);
  let lookedAt = Date.now();
  let looking: Promise<EidasTrustSnapshot> | undefined;

  async function look(): Promise<EidasTrustSnapshot> {
    try {
      const now = await versions();
      if (now !== version) {
        snapshot = await readEidasTrust(files);
        version = now;
      }
    } catch (error) {
      // The last good lists stay in force: a CRL being rewritten must not let revoked certificates back in.
      options.onReloadFailure?.(error);
    } finally {
      lookedAt = Date.now();
      looking = undefined;
    }
    return snapshot;
  }

  const current = () => {
    if (Date.now() - lookedAt < recheckMs) return Promise.resolve(snapshot);
    looking ??= look();
    return looking;
  };
  return {
    current,
    latest() {
      void current();
      return snapshot;
    },
  };
}
