import type { Context } from 'koa';
import type { Provider } from 'oidc-provider';
import type { ClientCertificateReader } from '../../http/client-certificate.ts';
import { type PresentedTokenKind, TokenRejected, type VerifiedClientToken, verifyPresentedToken } from '../../oidc/client-credentials-token.ts';
import { ObError } from './ob-error.ts';

/** The presented client_credentials token, or a UK OB 401 envelope with the matching WWW-Authenticate challenge. */
export async function verifyObApiToken(
  provider: Provider,
  presentedCertificate: ClientCertificateReader,
  ctx: Context,
  kind: PresentedTokenKind = 'ClientCredentials',
): Promise<VerifiedClientToken> {
  try {
    return await verifyPresentedToken(provider, presentedCertificate, ctx, kind);
  } catch (error) {
    if (!(error instanceof TokenRejected)) throw error;
    const scheme = error.header === 'DPoP' ? 'DPoP error="invalid_dpop_proof"' : 'Bearer error="invalid_token"';
    throw new ObError(401, error.message, [{ code: error.missing ? 'UK.OBIE.Header.Missing' : 'UK.OBIE.Header.Invalid', message: error.message, path: error.header }], {
      'www-authenticate': `${scheme}, error_description="${error.message}"`,
    });
  }
}
