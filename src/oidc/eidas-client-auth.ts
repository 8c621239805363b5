import type { X509Certificate } from 'node:crypto';
import type { KoaContextWithOIDC } from 'oidc-provider';
import { extraClientProperty } from '../engine/engine-internals.ts';
import type { ClientCertificateReader } from '../http/client-certificate.ts';
import { clientKindOf } from '../protocol/client-kind.ts';
import { type EidasTpp, identifyEidasCertificate } from '../tpp/eidas-identity.ts';
import type { EidasTrust } from '../tpp/eidas-trust.ts';

/**
 * tls_client_auth for a TPP known by its eIDAS certificate (tpp/eidas-client.ts): the QWAC it presents
 * authenticates it when the certificate passes the eIDAS checks now (a trusted QTSP's CA, within its
 * validity, not revoked, the PSD2 QC statement: tpp/eidas-identity.ts) and names the client's
 * organizationIdentifier, whatever else its subject says: a renewed certificate of the same
 * organisation keeps working. The TLS layer's own verdict (`authorized`, against the server's client
 * CAs) does not count for these clients: the eIDAS trust list decides. The provider calls both hooks
 * synchronously, so the last trust snapshot read is used (EidasTrust.latest).
 */

export function isEidasClient(client: object | undefined): boolean {
  return client !== undefined && clientKindOf({ client_kind: extraClientProperty(client, 'client_kind') }) === 'eidas_tpp';
}

/** The TPP the certificate names when it passes the eIDAS checks now; undefined for any refusal. */
export function trustedEidasTpp(certificate: X509Certificate, trust: EidasTrust): EidasTpp | undefined {
  try {
    return identifyEidasCertificate(certificate, trust.latest());
  } catch {
    return undefined;
  }
}

/** The TPP behind the request's QWAC, when it passes the eIDAS checks now. */
export function presentedEidasTpp(ctx: KoaContextWithOIDC, presented: ClientCertificateReader, trust: EidasTrust): EidasTpp | undefined {
  const certificate = presented(ctx.req)?.certificate;
  return certificate && trustedEidasTpp(certificate, trust);
}

type MtlsHooks = {
  certificateAuthorized(ctx: KoaContextWithOIDC): boolean;
  certificateSubjectMatches(ctx: KoaContextWithOIDC, property: string, expected: string): boolean;
};

/** The provider's mTLS hooks, answering for eIDAS clients and leaving every other client to `hooks`. */
export function withEidasClients(hooks: MtlsHooks, presented: ClientCertificateReader, trust: EidasTrust | undefined): MtlsHooks {
  if (!trust) return hooks;
  return {
    certificateAuthorized: (ctx) => isEidasClient(ctx.oidc.client) || hooks.certificateAuthorized(ctx),
    certificateSubjectMatches(ctx, property, expected) {
      const client = ctx.oidc.client;
      if (!isEidasClient(client)) return hooks.certificateSubjectMatches(ctx, property, expected);
      return presentedEidasTpp(ctx, presented, trust)?.organizationId === client!.clientId;
    },
  };
}
