import path from 'node:path';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { Db } from '../db/connect.ts';
import type { ClientCertificateReader } from '../http/client-certificate.ts';
import { ensureDevPki } from '../http/dev-pki.ts';
import { readRequestBody } from '../http/request-body.ts';
import { CertificateInvalid, type EidasTpp, identifyEidasCertificate } from './eidas-identity.ts';
import { ensureEidasTpp, knownEidasTpp } from './eidas-tpp.ts';
import { type EidasTrust, loadEidasTrust } from './eidas-trust.ts';
import { verifyRequestSignature } from './request-signature.ts';

/**
 * The eIDAS trust a server starts with: EIDAS_TRUSTED_CA_FILE and EIDAS_CRL_FILE read now (a bad file
 * stops the start with EidasTrustFileError), then followed as they change; in dev mode without
 * EIDAS_TRUSTED_CA_FILE the dev CA, made now if the server's certificate came from files.
 */
export async function loadServerEidasTrust(config: Pick<Config, 'eidas' | 'devMode' | 'dataDir'>, logger: Logger): Promise<EidasTrust> {
  if (config.devMode && config.eidas.trustedCaFile === path.join(config.dataDir, 'tls', 'ca.pem')) await ensureDevPki(config.dataDir);
  return loadEidasTrust(
    { caFile: config.eidas.trustedCaFile, crlFile: config.eidas.crlFile },
    { onReloadFailure: (error) => logger.error({ err: error }, 'eIDAS trust files: the last good CAs and CRLs stay in force') },
  );
}

/** BERLIN_GROUP_SIGNED_REQUESTS: whether every request must carry Digest, Signature and TPP-Signature-Certificate. */
export type SignedRequests = 'required' | 'off';

export interface EidasTppDeps {
  db: Db;
  trust: EidasTrust;
  presentedCertificate: ClientCertificateReader;
  signedRequests: SignedRequests;
}

/** What the middleware leaves on ctx.state for the steps after it. */
export interface EidasState {
  eidasTpp: EidasTpp;
  /** The TPP's client_id in Assent (its organizationIdentifier). */
  eidasClientId: string;
}

/**
 * The TPP behind a request, known by its QWAC (the TLS client certificate, read as
 * http/client-certificate.ts reads it: from the socket, or from a trusted proxy's header): identified
 * against the eIDAS trust, its row made on first contact, refused while suspended, and, when the bank
 * requires signed requests, the signature verified over the body as received. Throws the AssentError
 * (certificate_invalid, certificate_expired, certificate_blocked, signature_invalid) for the edge's
 * error table to word; on success puts the TPP on ctx.state.
 */
/**
 * The identifying step of one route: `admit` (the route's own check of the TPP, such as its PSD2 role)
 * runs once the certificate (and signature) passed and before the TPP's row is made on first contact, so
 * a TPP the route refuses leaves no trace either.
 */
export type EidasTppMiddleware = (admit?: (tpp: EidasTpp) => void) => Middleware<EidasState>;

const READS = new Set(['GET', 'HEAD']);

export function eidasTppMiddleware(deps: EidasTppDeps): EidasTppMiddleware {
  return (admit) => async (ctx, next) => {
    const presented = deps.presentedCertificate(ctx.req);
    if (!presented) throw new CertificateInvalid('no TLS client certificate (QWAC) was presented');
    const trust = await deps.trust.current();
    const tpp = identifyEidasCertificate(presented.certificate, trust);
    if (deps.signedRequests === 'required') {
      const body = await readRequestBody(ctx);
      verifyRequestSignature({ method: ctx.method, path: ctx.originalUrl, headers: ctx.req.headers, body, qwacTpp: tpp }, trust);
    }
    admit?.(tpp);
    // Only a request that passed every check may make the TPP's row: a refused one changes nothing, and
    // one that only reads never writes.
    const clientId = READS.has(ctx.method) ? await knownEidasTpp(deps.db, tpp) : (await ensureEidasTpp(deps.db, tpp)).clientId;
    ctx.state.eidasTpp = tpp;
    ctx.state.eidasClientId = clientId;
    await next();
  };
}
