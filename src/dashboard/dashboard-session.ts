import type { Context, Next } from 'koa';
import type { Db } from '../db/connect.ts';
import { type DashboardSession, type SessionPolicy, resumeSession } from './session-service.ts';

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

export interface SignedInState {
  /** The cookie value, needed to end the session. */
  sessionId: string;
  session: DashboardSession;
}

/** The signed-in customer's session, or undefined (no cookie, unknown, idle too long or past its lifetime). */
export async function currentSession(db: Db, policy: SessionPolicy, ctx: Context): Promise<SignedInState | undefined> {
  const sessionId = ctx.cookies.get(SESSION_COOKIE);
  if (!sessionId) return undefined;
  const session = await resumeSession(db, policy, sessionId);
  if (!session) {
    clearCookie(ctx, SESSION_COOKIE);
    return undefined;
  }
  return { sessionId, session };
}

export type SignedInContext = Context & { state: { dashboard: SignedInState } };

/** Lets only signed-in customers through; everyone else gets the sign-in page (401), and nothing runs. */
export function requireSession(db: Db, policy: SessionPolicy, signedOut: (ctx: Context) => void) {
  return async (ctx: Context, next: Next) => {
    const signedIn = await currentSession(db, policy, ctx);
    if (!signedIn) {
      signedOut(ctx);
      return;
    }
    ctx.state.dashboard = signedIn;
    await next();
  };
}
