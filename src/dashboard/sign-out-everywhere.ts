import type { Context, Next } from 'koa';
import type { KoaContextWithOIDC, Provider } from 'oidc-provider';
import type { Db } from '../db/connect.ts';
import { clearCookie, SESSION_COOKIE } from './dashboard-session.ts';
import { closeSession } from './session-service.ts';

/**
 * A browser holds two Assent sessions: the provider's (its sign-in, used by every authorization) and the
 * dashboard's own. Signing out of either ends both, so that "you are signed out" is true wherever it is
 * said. Neither ends a TPP's consent or tokens: those live with the consent, not with a browser session.
 */

/**
 * Provider middleware: after "Yes, sign me out" at /session/end (the provider has destroyed its own
 * session and answers with its redirect), the dashboard's session of this browser ends too.
 */
export function endDashboardSessionOnSignOut(db: Db) {
  return async function endDashboardSession(ctx: KoaContextWithOIDC, next: Next) {
    await next();
    if (ctx.oidc?.route !== 'end_session_confirm' || !ctx.oidc.params?.logout || ctx.status !== 303) return;
    // The provider's cookies are signed with its keys; the dashboard's are not.
    const sessionId = ctx.cookies.get(SESSION_COOKIE, { signed: false });
    if (!sessionId) return;
    await closeSession(db, sessionId);
    clearCookie(ctx, SESSION_COOKIE);
  };
}

/** When the dashboard signs out: the provider's session of this browser ends too (read and cleared as the provider does). */
export async function endProviderSession(provider: Provider, ctx: Context): Promise<void> {
  const cookies = provider.createContext(ctx.req, ctx.res).cookies;
  const name = provider.cookieName('session');
  const id = cookies.get(name);
  if (!id) return;
  const session = await provider.Session.find(id);
  await session?.destroy();
  cookies.set(name, null);
}
