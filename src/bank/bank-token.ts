import type { Context, Next } from 'koa';
import type { Provider } from 'oidc-provider';
import { ObError } from '../ob-api/ob-error.ts';
import type { ClientCertificateReader } from '../http/client-certificate.ts';
import { verifyObApiToken } from '../ob-api/client-token.ts';
import { SCOPE } from '../protocol/scopes.ts';

/**
 * The bank API is for the bank's resource servers only: a sender-constrained client_credentials
 * token with the `bank` scope, issued to a client of kind resource_server. A TPP's token is refused
 * even if it somehow carried the scope.
 */
export function requireResourceServerToken(provider: Provider, presentedCertificate: ClientCertificateReader) {
  return async function checkResourceServerToken(ctx: Context, next: Next) {
    const token = await verifyObApiToken(provider, presentedCertificate, ctx);
    if (token.clientKind !== 'resource_server') throw ObError.of(403, 'UK.OBIE.Header.Invalid', 'the bank API is for the bank\'s resource servers', 'Authorization');
    if (!token.scopes.has(SCOPE.bank)) throw ObError.of(403, 'UK.OBIE.Header.Invalid', `the access token lacks the ${SCOPE.bank} scope`, 'Authorization');
    (ctx.state as { resourceServer: string }).resourceServer = token.clientId;
    await next();
  };
}

export function resourceServerOf(ctx: Context): string {
  return (ctx.state as { resourceServer: string }).resourceServer;
}
