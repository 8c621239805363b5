import type { KoaContextWithOIDC } from 'oidc-provider';
import { clientKindOf } from '../protocol/client-kind.ts';

/**
 * oidc-provider's loadExistingGrant, plus: a first-party client (the bank's own dashboard) gets an
 * OpenID-only grant without a consent screen, as the library's docs advise for first-party clients.
 * The customer still passes every sign-in step; only the "allow access?" question is skipped.
 */
export async function loadExistingGrant(ctx: KoaContextWithOIDC) {
  const { client, session, account, provider } = ctx.oidc;
  const grantId = ctx.oidc.result?.consent?.grantId || session?.grantIdFor(client!.clientId);
  if (grantId) return provider.Grant.find(grantId);
  if (!account || clientKindOf(client!.metadata()) !== 'first_party') return undefined;
  const grant = new provider.Grant({ accountId: account.accountId, clientId: client!.clientId });
  grant.addOIDCScope('openid');
  await grant.save();
  return grant;
}
