import type { Context } from 'koa';
import type { Provider } from 'oidc-provider';
import type { ClientCertificateReader } from '../../http/client-certificate.ts';
import { TokenRejected, type VerifiedClientToken, verifyClientCredentialsToken } from '../../ob-api/client-token.ts';
import { ObError } from '../../ob-api/ob-error.ts';

/** The presented client_credentials token, or a UK OB 401 envelope with the matching WWW-Authenticate challenge. */
export async function verifyObApiToken(provider: Provider, presentedCertificate: ClientCertificateReader, ctx: Context): Promise<VerifiedClientToken> {
  try {
    return await verifyClientCredentialsToken(provider, presentedCertificate, ctx);
  } catch (error) {
    if (!(error instanceof TokenRejected)) throw error;
    const scheme = error.header === 'DPoP' ? 'DPoP error="invalid_dpop_proof"' : 'Bearer error="invalid_token"';
    throw new ObError(401, error.message, [{ code: error.missing ? 'UK.OBIE.Header.Missing' : 'UK.OBIE.Header.Invalid', message: error.message, path: error.header }], {
      'www-authenticate': `${scheme}, error_description="${error.message}"`,
    });
  }
}
