import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { extraClientProperty } from '../engine/engine-internals.ts';
import { grantManagementOf } from './grant-management.ts';
import { clientKindOf } from '../protocol/client-kind.ts';

/** The bank's own applications (the dashboard) sign the customer in; every other client is a TPP or a resource server. */
export function isFirstParty(client: object): boolean {
  return clientKindOf({ client_kind: extraClientProperty(client, 'client_kind') }) === 'first_party';
}

/**
 * oidc-provider's loadExistingGrant, for consents that live for months:
 * - a TPP's authorization never starts from a grant it already holds. The engine's default hands a new
 *   authorization the grant the browser session holds for that client, so a later request (naming no
 *   consent, or another one) would be added to an earlier consent's grant without the customer seeing
 *   what it already held. Each authorization gets a grant of its own, holding exactly what its page
 *   showed; the only way to add to a grant is Grant Management's `merge`, which the customer sees.
 * - Grant Management: `merge` works on the grant the client named (validated at PAR), which must be
 *   the signed-in customer's.
 * - a first-party client (the bank's own dashboard) gets an OpenID-only grant without a consent
 *   screen, as the library's docs advise for first-party clients, reused for the session. The customer
 *   still passes every sign-in step; only the "allow access?" question is skipped.
 */
export async function loadExistingGrant(ctx: KoaContextWithOIDC) {
  const { client, session, account, provider, params } = ctx.oidc;
  const managed = grantManagementOf(params ?? {});
  if (managed.action === 'merge' && managed.grantId) {
    const grant = await provider.Grant.find(ctx.oidc.result?.consent?.grantId || managed.grantId);
    if (!grant || grant.clientId !== client!.clientId) throw new errors.InvalidRequest('the grant named by grant_id no longer exists');
    if (account && grant.accountId !== account.accountId)
      throw new errors.AccessDenied('the grant named by grant_id belongs to another customer');
    return grant;
  }
  // The grant this very authorization's consent step saved (replace keeps the replaced grant's id).
  const decided = ctx.oidc.result?.consent?.grantId;
  if (decided) return provider.Grant.find(decided);
  if (!account || !isFirstParty(client!)) return undefined;
  const held = session?.grantIdFor(client!.clientId);
  if (held) return provider.Grant.find(held);
  const grant = new provider.Grant({ accountId: account.accountId, clientId: client!.clientId });
  grant.addOIDCScope('openid');
  await grant.save();
  return grant;
}

/**
 * Whether a token ends with the customer's browser session at the bank (oidc-provider's
 * `expiresWithSession`). The engine's default binds every token issued without `offline_access` to the
 * session and checks at each refresh that the session still holds this very grant, so a TPP's refresh
 * token died when the session's TTL passed, at sign-out, or when the customer approved anything else
 * for the same TPP in the same browser, while the consent still read Authorised. A TPP's tokens live
 * with their grant instead, which lives as long as its consent (consent-grant.ts) and ends with it on
 * every path; only the bank's own dashboard signs out with the session.
 */
export function expiresWithSession(ctx: KoaContextWithOIDC): boolean {
  return ctx.oidc.client !== undefined && isFirstParty(ctx.oidc.client);
}
