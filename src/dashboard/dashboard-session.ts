import type { Context } from 'koa';
import type { Db } from '../db/connect.ts';
import type { SignedInCustomer } from '../http/route-guard.ts';
import { type SessionPolicy, resumeSession } from './session-service.ts';

/**
 * The cookies of the dashboard. `__Host-` pins them to this origin and path `/` with Secure; they are
 * HttpOnly and SameSite=Strict, so no other site can send them along with a request.
 */
export const SESSION_COOKIE = '__Host-assent-dashboard';
export const SIGN_IN_COOKIE = '__Host-assent-dashboard-sign-in';

const COOKIE_OPTIONS = { httpOnly: true, secure: true, sameSite: 'strict', path: '/', signed: false, overwrite: true } as const;

export function setCookie(ctx: Context, name: string, value: string) {
  ctx.cookies.set(name, value, COOKIE_OPTIONS);
}

export function clearCookie(ctx: Context, name: string) {
  ctx.cookies.set(name, '', { ...COOKIE_OPTIONS, expires: new Date(0) });
}

/**
 * The signed-in customer of the request's session cookie, or undefined (no cookie, unknown, idle too
 * long or past its lifetime: then the cookie is cleared). The route guard (http/route-guard.ts) reads
 * it for every `dashboard_session` row.
 */
export async function resumeSignedInCustomer(db: Db, policy: SessionPolicy, ctx: Context): Promise<SignedInCustomer | undefined> {
  const sessionId = ctx.cookies.get(SESSION_COOKIE);
  if (!sessionId) return undefined;
  const session = await resumeSession(db, policy, sessionId);
  if (!session) {
    clearCookie(ctx, SESSION_COOKIE);
    return undefined;
  }
  return { sessionId, customerId: session.customerId };
}
