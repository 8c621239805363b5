import type { KoaContextWithOIDC } from 'oidc-provider';

/**
 * Grant Management: the token response names the grant its tokens live in (`grant_id`), so the client
 * can query, merge into, replace or revoke it. Client credentials tokens have no grant and get none.
 * Mounted with `provider.use`, after the token endpoint has built its body.
 */
export async function returnGrantId(ctx: KoaContextWithOIDC, next: () => Promise<void>) {
  await next();
  if (ctx.oidc?.route !== 'token' || ctx.status !== 200) return;
  const body = ctx.body as Record<string, unknown> | undefined;
  const grantId = (ctx.oidc.entities.AccessToken as { grantId?: string } | undefined)?.grantId;
  if (body && typeof body === 'object' && typeof body.access_token === 'string' && grantId) body.grant_id = grantId;
}
