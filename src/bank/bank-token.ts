import type { Context, Next } from 'koa';
import type { Provider } from 'oidc-provider';
import { ObError } from '../consents/api/ob-error.ts';
import type { ClientCertificateReader } from '../http/client-certificate.ts';
import { TokenRejected, verifyClientCredentialsToken } from '../oidc/client-credentials-token.ts';
import { BANK_SCOPE } from '../oidc/provider.ts';

/**
 * The bank API is for the bank's resource servers only: a sender-constrained client_credentials
 * token with the `bank` scope, issued to a client of kind resource_server. A TPP's token is refused
 * even if it somehow carried the scope.
 */
export function requireResourceServerToken(provider: Provider, presentedCertificate: ClientCertificateReader) {
  return async function checkResourceServerToken(ctx: Context, next: Next) {
    let token;
    try {
      token = await verifyClientCredentialsToken(provider, presentedCertificate, ctx);
    } catch (error) {
      if (!(error instanceof TokenRejected)) throw error;
      const scheme = error.header === 'DPoP' ? 'DPoP error="invalid_dpop_proof"' : 'Bearer error="invalid_token"';
      throw new ObError(401, error.message, [{ code: error.missing ? 'UK.OBIE.Header.Missing' : 'UK.OBIE.Header.Invalid', message: error.message, path: error.header }], {
        'www-authenticate': `${scheme}, error_description="${error.message}"`,
      });
    }
    if (token.clientKind !== 'resource_server') throw ObError.of(403, 'UK.OBIE.Header.Invalid', 'the bank API is for the bank\'s resource servers', 'Authorization');
    if (!token.scopes.has(BANK_SCOPE)) throw ObError.of(403, 'UK.OBIE.Header.Invalid', `the access token lacks the ${BANK_SCOPE} scope`, 'Authorization');
    (ctx.state as { resourceServer: string }).resourceServer = token.clientId;
    await next();
  };
}

export function resourceServerOf(ctx: Context): string {
  return (ctx.state as { resourceServer: string }).resourceServer;
}
