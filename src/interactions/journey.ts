import type { Context, Next } from 'koa';
import type { Provider } from 'oidc-provider';
import type { Consent } from '../consents/consent.ts';
import { consentOfInteraction } from '../consents/consent-binding.ts';
import type { Db } from '../db/connect.ts';
import { clientDisplayOfRow, clientDisplayQuery, getClientDisplay } from '../tpp/tpp-service.ts';
import { type TppOnPage, tppOnPage } from './consent-details.ts';
import { type Interaction, loadInteraction } from './interaction-context.ts';
import { type ScaProgress, touchScaProgress, touchScaProgressReading } from './sca-progress.ts';

/**
 * Everything a step of the authorization pages works from, loaded once per request by `loadJourney`:
 * the interaction (oidc-provider checks it against the browser's cookie), the consent the request
 * binds (read only: a GET never creates one) and the customer's progress through strong
 * authentication, which counts the request as activity; these two are read side by side. The TPP as
 * the pages name it is read once, when a page is rendered (a POST that succeeds redirects instead); a
 * GET always renders one, so it reads the TPP in the activity statement itself.
 */
export interface Journey {
  interaction: Interaction;
  tpp(): Promise<TppOnPage>;
  consent: Consent | undefined;
  progress: ScaProgress;
}

export function loadJourney(deps: { provider: Provider; db: Db; idleTimeoutSeconds: number }) {
  return async function loadJourneyStep(ctx: Context & { params: { uid?: string } }, next: Next) {
    const interaction = await loadInteraction(deps.provider, ctx);
    const clientId = String(interaction.params.client_id);
    let tpp: Promise<TppOnPage> | undefined;
    // A GET always renders a page naming the TPP: its display is read in the activity statement.
    const touch = ctx.method === 'GET'
      ? touchScaProgressReading(deps.db, interaction.uid, deps.idleTimeoutSeconds, clientDisplayQuery(clientId)).then(({ progress, alongside }) => {
        tpp = Promise.resolve(tppOnPage(clientDisplayOfRow(alongside, clientId), clientId));
        return progress;
      })
      : touchScaProgress(deps.db, interaction.uid, deps.idleTimeoutSeconds);
    const [consent, progress] = await Promise.all([consentOfInteraction(deps.db, interaction), touch]);
    const journey: Journey = {
      interaction,
      tpp: () => (tpp ??= getClientDisplay(deps.db, clientId).then((display) => tppOnPage(display, clientId))),
      consent,
      progress,
    };
    ctx.state.journey = journey;
    await next();
  };
}

/** The journey `loadJourney` put on the request; a step listed before it is a wiring mistake. */
export function journeyOf(ctx: Context): Journey {
  const journey = ctx.state.journey as Journey | undefined;
  if (!journey) throw new Error('loadJourney must run before this step');
  return journey;
}

/** The customer who passed the password step of this interaction, if any. */
export function passwordVerifiedFor(journey: Journey): string | undefined {
  return journey.progress.state === 'active' ? journey.progress.passwordVerifiedFor : undefined;
}
