import { hash, X509Certificate } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { TLSSocket } from 'node:tls';
import { trustedProxyCheck } from './trusted-proxies.ts';

/**
 * Where the client certificate of a request comes from: the TLS socket when Node terminates TLS, or
 * a header set by a TLS-terminating proxy, believed only when the request comes from that proxy.
 */
export interface ClientCertificateSettings {
  terminatedByProxy: boolean;
  header: string;
  trustedProxies: string[];
  /** CAs whose issued certificates count as PKI-verified (tls_client_auth). */
  trustedCas: X509Certificate[];
}

export interface PresentedCertificate {
  certificate: X509Certificate;
  /** Chains to a trusted CA and is within its validity period. */
  authorized: boolean;
}

/** Thumbprints by certificate object: a kept-alive connection presents the same object on every request. */
const thumbprints = new WeakMap<X509Certificate, string>();

/** The certificate's SHA-256 thumbprint as cnf `x5t#S256` carries it (base64url of the DER digest). */
export function certificateThumbprint(certificate: X509Certificate): string {
  let thumbprint = thumbprints.get(certificate);
  if (thumbprint === undefined) {
    thumbprint = hash('sha256', certificate.raw, 'base64url');
    thumbprints.set(certificate, thumbprint);
  }
  return thumbprint;
}

/** Accepts a URL-encoded PEM (nginx `$ssl_client_escaped_cert`), a PEM, or base64 DER. */
function parseForwarded(value: string): X509Certificate | undefined {
  const text = value.includes('%') ? decodeURIComponent(value) : value;
  try {
    return new X509Certificate(text.includes('-----BEGIN') ? text : Buffer.from(text, 'base64'));
  } catch {
    // A malformed header is the same as no certificate: client authentication then fails normally.
    return undefined;
  }
}

function issuedByTrustedCa(certificate: X509Certificate, cas: X509Certificate[]) {
  const now = Date.now();
  if (now < Date.parse(certificate.validFrom) || now > Date.parse(certificate.validTo)) return false;
  return cas.some((ca) => certificate.checkIssued(ca) && certificate.verify(ca.publicKey));
}

export function createClientCertificateReader(settings: ClientCertificateSettings) {
  const isTrustedProxy = trustedProxyCheck(settings.trustedProxies);
  const seen = new WeakMap<IncomingMessage, PresentedCertificate | null>();
  // The listener refuses renegotiation (tls.ts), so a connection's certificate never changes: parsed once
  // per connection, not once per request of a kept-alive connection (and its fingerprints computed once).
  const ofConnection = new WeakMap<TLSSocket, PresentedCertificate | null>();

  function readConnection(socket: TLSSocket): PresentedCertificate | null {
    let found = ofConnection.get(socket);
    if (found === undefined) {
      const certificate = socket.getPeerX509Certificate();
      found = certificate ? { certificate, authorized: socket.authorized } : null;
      ofConnection.set(socket, found);
    }
    return found;
  }

  function read(req: IncomingMessage): PresentedCertificate | null {
    const socket = req.socket;
    if (!settings.terminatedByProxy) return socket instanceof TLSSocket ? readConnection(socket) : null;
    if (!isTrustedProxy(socket.remoteAddress)) return null;
    const header = req.headers[settings.header];
    if (typeof header !== 'string' || header === '') return null;
    const certificate = parseForwarded(header);
    return certificate ? { certificate, authorized: issuedByTrustedCa(certificate, settings.trustedCas) } : null;
  }

  return function presentedCertificate(req: IncomingMessage): PresentedCertificate | undefined {
    let found = seen.get(req);
    if (found === undefined) {
      found = read(req);
      seen.set(req, found);
    }
    return found ?? undefined;
  };
}

export type ClientCertificateReader = ReturnType<typeof createClientCertificateReader>;
