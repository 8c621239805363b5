import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { grantManagementOf } from './grant-management.ts';
import { clientKindOf } from '../protocol/client-kind.ts';

/**
 * oidc-provider's loadExistingGrant, plus:
 * - Grant Management: `merge` works on the grant the client named (validated at PAR), which must be
 *   the signed-in customer's; `create` and `replace` never reuse the session's grant.
 * - a first-party client (the bank's own dashboard) gets an OpenID-only grant without a consent
 *   screen, as the library's docs advise for first-party clients. The customer still passes every
 *   sign-in step; only the "allow access?" question is skipped.
 */
export async function loadExistingGrant(ctx: KoaContextWithOIDC) {
  const { client, session, account, provider, params } = ctx.oidc;
  const managed = grantManagementOf(params ?? {});
  // replace starts from an empty grant under the same id (interactions/consent-step.ts): the old one is
  // not loaded, so the interaction does not hang off a grant that the replacement destroys.
  if (managed.action === 'merge' && managed.grantId) {
    const grant = await provider.Grant.find(ctx.oidc.result?.consent?.grantId || managed.grantId);
    if (!grant || grant.clientId !== client!.clientId) throw new errors.InvalidRequest('the grant named by grant_id no longer exists');
    if (account && grant.accountId !== account.accountId) throw new errors.AccessDenied('the grant named by grant_id belongs to another customer');
    return grant;
  }
  const managedExplicitly = params?.grant_management_action !== undefined;
  const grantId = ctx.oidc.result?.consent?.grantId || (managedExplicitly ? undefined : session?.grantIdFor(client!.clientId));
  if (grantId) return provider.Grant.find(grantId);
  if (!account || clientKindOf(client!.metadata()) !== 'first_party') return undefined;
  const grant = new provider.Grant({ accountId: account.accountId, clientId: client!.clientId });
  grant.addOIDCScope('openid');
  await grant.save();
  return grant;
}
