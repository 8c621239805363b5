import { Router } from '@koa/router';
import type { Context } from 'koa';
import type { Provider } from 'oidc-provider';
import type { AccountDirectory } from '../customers/account-directory.ts';
import type { CustomerAuthentication } from '../customers/authentication.ts';
import type { Db } from '../db/connect.ts';
import type { Csrf } from '../http/csrf.ts';
import { declaredRoutes } from '../http/declared-routes.ts';
import type { Views } from '../http/views.ts';
import { INTERACTION_PREFIX } from '../protocol/routes.ts';
import type { BatchedFind } from '../store/batched-find.ts';
import { answerRepeatedDecision, approveConsent, denyConsent, sendOnWhenDecided, showConsent } from './consent-step.ts';
import { interactionOfBrowser } from './interaction-context.ts';
import { journeyOf, loadJourney, passwordVerifiedFor } from './journey.ts';
import { renderLogin, submitLogin } from './login-step.ts';
import { renderOtp, submitOtp } from './otp-step.ts';
import { endWhenIdle, returnWhenIdle } from './session-timeout.ts';
import { requireConsentPrompt, requireLoginPrompt, requirePasswordFactor } from './step-guards.ts';

export interface InteractionDeps {
  provider: Provider;
  /** The provider adapter's finds by id: the activity statement reads the interaction as the engine would. */
  find: BatchedFind;
  db: Db;
  views: Views;
  authentication: CustomerAuthentication;
  /** The bank's source of who owns which account (its core banking plugs in here). */
  accounts: AccountDirectory;
  csrf: Csrf;
  /** PSD2 RTS Art. 4: at most 300 seconds without activity. */
  idleTimeoutSeconds: number;
}

/** GET: the page of the step the customer is at: password, one-time code, or the consent. */
function showStep(deps: InteractionDeps) {
  const consentPage = showConsent(deps);
  return async function showStepStep(ctx: Context) {
    const journey = journeyOf(ctx);
    if (journey.interaction.prompt.name !== 'login') return consentPage(ctx);
    if (passwordVerifiedFor(journey)) return renderOtp(deps, ctx, journey);
    await renderLogin(deps, ctx, journey);
  };
}

/**
 * The pages of the authorization flow: password, then one-time code (strong customer authentication),
 * then the customer's decision. Each route is its list of steps, top to bottom, after the route guard
 * (its rows' credential `interaction`: the CSRF token on every POST before anything else, then the
 * browser's cookie of the interaction in the URL): the journey loaded once (the interaction, which
 * fails once it has ended, the TPP, the bound consent, SCA progress counted as activity); the idle
 * timeout; the checks that the step is expected now; the step itself. A decision already taken is
 * answered right after loading (the journey reads it), or, once the interaction has ended, by the
 * guard's `whenEnded` step, which wraps the cookie check and the loading.
 */
export function interactionRouter(deps: InteractionDeps) {
  const router = new Router();
  const routes = declaredRoutes(router, {
    interaction: { interactionOfBrowser: (ctx) => interactionOfBrowser(deps.provider, ctx), csrf: deps.csrf },
  });
  const load = loadJourney(deps);
  const decidedOnce = { whenEnded: answerRepeatedDecision(deps) };

  routes.interaction(`GET ${INTERACTION_PREFIX}`, load, endWhenIdle(deps), showStep(deps));
  routes.interaction(
    `POST ${INTERACTION_PREFIX}/login`,
    loadJourney(deps, 'posted username'),
    endWhenIdle(deps),
    requireLoginPrompt(deps),
    submitLogin(deps),
  );
  routes.interaction(
    `POST ${INTERACTION_PREFIX}/otp`,
    loadJourney(deps, 'password factor'),
    endWhenIdle(deps),
    requireLoginPrompt(deps),
    requirePasswordFactor(deps),
    submitOtp(deps),
  );
  routes.interaction(
    `POST ${INTERACTION_PREFIX}/confirm`,
    decidedOnce,
    load,
    sendOnWhenDecided(),
    endWhenIdle(deps),
    requireConsentPrompt(deps),
    approveConsent(deps),
  );
  routes.interaction(`POST ${INTERACTION_PREFIX}/abort`, decidedOnce, load, sendOnWhenDecided(), returnWhenIdle(), denyConsent(deps));

  return router;
}
