import type { Context, Next } from 'koa';
import type { Provider } from 'oidc-provider';
import type { Consent } from '../consents/consent.ts';
import { consentOfInteraction } from '../consents/consent-binding.ts';
import type { Db } from '../db/connect.ts';
import { sql } from 'kysely';
import { type Customer, customerQuery, getCustomer, toCustomer } from '../customers/customer-service.ts';
import { type ClientDisplayRow, clientDisplayOfRow, clientDisplayQuery, getClientDisplay } from '../tpp/tpp-service.ts';
import { type TppOnPage, tppOnPage } from './consent-details.ts';
import { type Interaction, loadInteraction } from './interaction-context.ts';
import { type ScaProgress, touchScaProgress, touchScaProgressReading } from './sca-progress.ts';

/**
 * Everything a step of the authorization pages works from, loaded once per request by `loadJourney`:
 * the interaction (oidc-provider checks it against the browser's cookie), the consent the request
 * binds (read only: a GET never creates one) and the customer's progress through strong
 * authentication, which counts the request as activity; these two are read side by side. The TPP as
 * the pages name it (and the signed-in customer) are read once, when a page is rendered (a POST that
 * succeeds redirects instead); a GET always renders one, so it reads them in the activity statement.
 */
export interface Journey {
  interaction: Interaction;
  tpp(): Promise<TppOnPage>;
  /** The signed-in customer of the interaction's session, if any. */
  customer(): Promise<Customer | undefined>;
  consent: Consent | undefined;
  progress: ScaProgress;
}

export function loadJourney(deps: { provider: Provider; db: Db; idleTimeoutSeconds: number }) {
  return async function loadJourneyStep(ctx: Context & { params: { uid?: string } }, next: Next) {
    const interaction = await loadInteraction(deps.provider, ctx);
    const clientId = String(interaction.params.client_id);
    const customerId = interaction.session?.accountId;
    let tpp: Promise<TppOnPage> | undefined;
    let customer: Promise<Customer | undefined> | undefined;
    // A GET always renders a page naming the TPP (and the consent page the customer): read in the activity statement.
    const named = customerId && interaction.prompt.name === 'consent' ? customerId : undefined;
    const touch = ctx.method === 'GET'
      ? touchScaProgressReading(deps.db, interaction.uid, deps.idleTimeoutSeconds, pageNames(clientId, named)).then(({ progress, alongside }) => {
        tpp = Promise.resolve(tppOnPage(clientDisplayOfRow(alongside, clientId), clientId));
        if (named) customer = Promise.resolve(alongside.customer_id === null ? undefined : toCustomer({ id: alongside.customer_id, username: alongside.customer_username!, display_name: alongside.customer_display_name! }));
        return progress;
      })
      : touchScaProgress(deps.db, interaction.uid, deps.idleTimeoutSeconds);
    const [consent, progress] = await Promise.all([consentOfInteraction(deps.db, interaction), touch]);
    const journey: Journey = {
      interaction,
      tpp: () => (tpp ??= getClientDisplay(deps.db, clientId).then((display) => tppOnPage(display, clientId))),
      customer: () => (customer ??= customerId ? getCustomer(deps.db, customerId) : Promise.resolve(undefined)),
      consent,
      progress,
    };
    ctx.state.journey = journey;
    await next();
  };
}

/** The TPP's display and, when named, the customer's, as one row (no customer: its columns are null). */
function pageNames(clientId: string, customerId: string | undefined) {
  return sql<ClientDisplayRow & { customer_id: string | null; customer_username: string | null; customer_display_name: string | null }>`
    select display.*, c.id as customer_id, c.username as customer_username, c.display_name as customer_display_name
    from (${clientDisplayQuery(clientId)}) as display
    left join (${customerQuery(customerId ?? '')}) as c on true`;
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
