import { Router } from '@koa/router';
import type { Provider } from 'oidc-provider';
import type { Db } from '../db/connect.ts';
import type { Views } from '../http/views.ts';
import { approveConsent, denyConsent, showConsent } from './consent-step.ts';
import { loadInteraction } from './interaction-context.ts';
import { showLogin, submitLogin } from './login-step.ts';

/**
 * The pages of the authorization flow, one step per prompt: sign-in, then the customer's decision.
 * Each route loads the interaction first, which fails unless the browser holds its cookie.
 */
export function interactionRouter(deps: { provider: Provider; db: Db; views: Views }) {
  const router = new Router({ prefix: '/interaction/:uid' });

  router.get('/', async (ctx) => {
    const loaded = await loadInteraction(deps.provider, ctx);
    if (loaded.interaction.prompt.name === 'login') showLogin(deps, ctx, loaded);
    else await showConsent(deps, ctx, loaded);
  });
  router.post('/login', async (ctx) => submitLogin(deps, ctx, await loadInteraction(deps.provider, ctx)));
  router.post('/confirm', async (ctx) => approveConsent(deps, ctx, await loadInteraction(deps.provider, ctx)));
  router.post('/abort', async (ctx) => denyConsent(deps, ctx, await loadInteraction(deps.provider, ctx)));

  return router;
}
