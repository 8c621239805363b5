import type { Middleware } from 'koa';
import { INTERNAL_SCOPES } from '../protocol/scopes.ts';

/**
 * The engine lists every configured scope in its metadata (both well-known documents), and no setting
 * takes one out (`discovery` only adds missing keys), so the internal ones are removed from its answer.
 */
export const advertiseTppScopesOnly: Middleware = async (ctx, next) => {
  await next();
  if ((ctx as { oidc?: { route?: string } }).oidc?.route !== 'discovery') return;
  const metadata = ctx.body as { scopes_supported?: unknown };
  if (Array.isArray(metadata.scopes_supported))
    metadata.scopes_supported = metadata.scopes_supported.filter((scope) => !INTERNAL_SCOPES.includes(scope));
};
