import { Router } from '@koa/router';
import type { Context } from 'koa';
import type { Provider } from 'oidc-provider';
import type { CustomerAuthentication } from '../customers/authentication.ts';
import type { Db } from '../db/connect.ts';
import { type Csrf, csrfProtection } from '../http/csrf.ts';
import type { Views } from '../http/views.ts';
import { INTERACTION_PREFIX } from '../protocol/routes.ts';
import { approveConsent, denyConsent, showConsent } from './consent-step.ts';
import { loadInteraction } from './interaction-context.ts';
import { renderLogin, submitLogin } from './login-step.ts';
import { renderOtp, submitOtp } from './otp-step.ts';
import { touchScaProgress } from './sca-progress.ts';
import { renderTimedOut, returnAfterTimeout } from './session-timeout.ts';

export interface InteractionDeps {
  provider: Provider;
  db: Db;
  views: Views;
  authentication: CustomerAuthentication;
  csrf: Csrf;
  /** PSD2 RTS Art. 4: at most 300 seconds without activity. */
  idleTimeoutSeconds: number;
}

/**
 * The pages of the authorization flow: password, then one-time code (strong customer authentication),
 * then the customer's decision. Every POST carries the interaction's CSRF token, checked before
 * anything else; every request loads the interaction (which fails unless the browser holds its
 * cookie) and counts as activity, unless the customer has already been idle too long.
 */
export function interactionRouter(deps: InteractionDeps) {
  const router = new Router({ prefix: INTERACTION_PREFIX });
  const csrf = csrfProtection(deps.csrf, (ctx) => String(ctx.params.uid));

  /** The interaction and the customer's progress through SCA; undefined once the timeout page is shown. */
  async function enter(ctx: Context & { params: { uid?: string } }) {
    const loaded = await loadInteraction(deps.provider, ctx);
    const progress = await touchScaProgress(deps.db, loaded.interaction.uid, deps.idleTimeoutSeconds);
    if (progress.state === 'timed_out') {
      renderTimedOut(deps, ctx, loaded);
      return undefined;
    }
    return { loaded, customerId: progress.passwordVerifiedFor, onLogin: loaded.interaction.prompt.name === 'login' };
  }

  router.get('/', csrf, async (ctx) => {
    const step = await enter(ctx);
    if (!step) return;
    if (!step.onLogin) await showConsent(deps, ctx, step.loaded);
    else if (step.customerId) await renderOtp(deps, ctx, step.loaded);
    else renderLogin(deps, ctx, step.loaded);
  });
  router.post('/login', csrf, async (ctx) => {
    const step = await enter(ctx);
    if (!step) return;
    if (!step.onLogin) deps.views.render(ctx, 'error', { message: 'You are already signed in. Start again from the application.' }, 400);
    else await submitLogin(deps, ctx, step.loaded);
  });
  router.post('/otp', csrf, async (ctx) => {
    const step = await enter(ctx);
    if (!step) return;
    if (!step.onLogin || !step.customerId) deps.views.render(ctx, 'error', { message: 'This step is not expected now. Start again from the application.' }, 400);
    else await submitOtp(deps, ctx, step.loaded, step.customerId);
  });
  router.post('/confirm', csrf, async (ctx) => {
    const step = await enter(ctx);
    if (step) await approveConsent(deps, ctx, step.loaded);
  });
  router.post('/abort', csrf, async (ctx) => {
    const loaded = await loadInteraction(deps.provider, ctx);
    const progress = await touchScaProgress(deps.db, loaded.interaction.uid, deps.idleTimeoutSeconds);
    if (progress.state === 'timed_out') await returnAfterTimeout(deps, ctx);
    else await denyConsent(deps, ctx, loaded);
  });

  return router;
}
