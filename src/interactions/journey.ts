import type { Context, Next } from 'koa';
import type { Provider } from 'oidc-provider';
import type { Consent } from '../consents/consent.ts';
import { consentOfInteraction } from '../consents/consent-binding.ts';
import type { Db } from '../db/connect.ts';
import { sql } from 'kysely';
import { type Customer, customerQuery, getCustomer, toCustomer } from '../customers/customer-service.ts';
import { type CustomerAndLockout, customerByIdWithLockoutQuery, customerByUsernameWithLockoutQuery, toCustomerAndLockout } from '../customers/customer-repository.ts';
import { readForm } from '../http/form-body.ts';
import { type ClientDisplayRow, clientDisplayOfRow, clientDisplayQuery, getClientDisplay } from '../tpp/tpp-service.ts';
import { type TppOnPage, tppOnPage } from './consent-details.ts';
import { type Interaction, loadInteraction } from './interaction-context.ts';
import { nothingAlongside, passwordFactorCustomerQuery, type ScaProgress, type TakenDecision, touchScaProgressReading } from './sca-progress.ts';

/**
 * Everything a step of the authorization pages works from, loaded once per request by `loadJourney`:
 * the interaction (oidc-provider checks it against the browser's cookie), the consent the request
 * binds (read only: a GET never creates one) and the customer's progress through strong
 * authentication, which counts the request as activity; these two are read side by side. The activity
 * statement also reads the decision already taken on the interaction and what the step needs next: a
 * GET always renders a page, so the TPP as the pages name it (and the signed-in customer); a sign-in
 * POST, the customer it checks with their lockout. A POST that succeeds redirects, so the TPP is read
 * only if a page is rendered after all.
 */
export interface Journey {
  interaction: Interaction;
  tpp(): Promise<TppOnPage>;
  /** The signed-in customer of the interaction's session, if any. */
  customer(): Promise<Customer | undefined>;
  consent: Consent | undefined;
  progress: ScaProgress;
  decided: TakenDecision | undefined;
  /** What the route's `SignInRead` read: the customer and lockout for `subject` (a username or a customer id). */
  signIn?: { subject: string; read: CustomerAndLockout };
}

/**
 * Who a sign-in POST checks, read in the activity statement: the customer of the username posted (the
 * password step), or the customer who passed this interaction's password step (the one-time code).
 */
export type SignInRead = 'posted username' | 'password factor';

export function loadJourney(deps: { provider: Provider; db: Db; idleTimeoutSeconds: number }, signIn?: SignInRead) {
  return async function loadJourneyStep(ctx: Context & { params: { uid?: string } }, next: Next) {
    const interaction = await loadInteraction(deps.provider, ctx);
    const clientId = String(interaction.params.client_id);
    const customerId = interaction.session?.accountId;
    let tpp: Promise<TppOnPage> | undefined;
    let customer: Promise<Customer | undefined> | undefined;
    let signedIn: Journey['signIn'];
    // A GET always renders a page naming the TPP (and the consent page the customer): read in the activity statement.
    const named = customerId && interaction.prompt.name === 'consent' ? customerId : undefined;
    const touch = ctx.method === 'GET'
      ? touchScaProgressReading(deps.db, interaction.uid, deps.idleTimeoutSeconds, pageNames(clientId, named)).then(({ alongside, ...read }) => {
        tpp = Promise.resolve(tppOnPage(clientDisplayOfRow(alongside, clientId), clientId));
        if (named) customer = Promise.resolve(alongside.customer_id === null ? undefined : toCustomer({ id: alongside.customer_id, username: alongside.customer_username!, display_name: alongside.customer_display_name! }));
        return read;
      })
      : signInQuery(ctx, interaction.uid, signIn).then((query) =>
        query
          ? touchScaProgressReading(deps.db, interaction.uid, deps.idleTimeoutSeconds, query).then(({ alongside, ...read }) => {
            if (alongside.subject !== null) signedIn = { subject: alongside.subject, read: toCustomerAndLockout(alongside) };
            return read;
          })
          : touchScaProgressReading(deps.db, interaction.uid, deps.idleTimeoutSeconds, nothingAlongside()),
      );
    const [consent, { progress, decided }] = await Promise.all([consentOfInteraction(deps.db, interaction), touch]);
    const journey: Journey = {
      interaction,
      tpp: () => (tpp ??= getClientDisplay(deps.db, clientId).then((display) => tppOnPage(display, clientId))),
      customer: () => (customer ??= customerId ? getCustomer(deps.db, customerId) : Promise.resolve(undefined)),
      consent,
      progress,
      decided,
      ...(signedIn && { signIn: signedIn }),
    };
    ctx.state.journey = journey;
    await next();
  };
}

async function signInQuery(ctx: Context, uid: string, signIn: SignInRead | undefined) {
  switch (signIn) {
    case 'posted username':
      return customerByUsernameWithLockoutQuery(((await readForm(ctx)).username ?? '').trim());
    case 'password factor':
      return customerByIdWithLockoutQuery(passwordFactorCustomerQuery(uid));
    case undefined:
      return undefined;
  }
}

/** The read the route's `SignInRead` made, if it was for `subject` (else the step reads for itself). */
export function signInRead(journey: Journey, subject: string): CustomerAndLockout | undefined {
  return journey.signIn?.subject === subject ? journey.signIn.read : undefined;
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
