import type { Context, Next } from 'koa';
import type { Provider } from 'oidc-provider';
import type { Consent } from '../consents/consent.ts';
import { consentOfInteraction } from '../uk-ob-v3/consent-binding.ts';
import { requestBinding } from '../oidc/consent-binding-hooks.ts';
import type { Db } from '../db/connect.ts';
import type { RawBuilder } from 'kysely';
import { type Customer, customerOfCompanion, getCustomer } from '../customers/customer-service.ts';
import {
  type CustomerAndLockout,
  customerByIdWithLockoutQuery,
  customerByUsernameWithLockoutQuery,
  toCustomerAndLockout,
} from '../customers/customer-repository.ts';
import type { BatchedFind } from '../store/batched-find.ts';
import { readForm } from '../http/form-body.ts';
import { clientDisplayOfRow, getClientDisplay } from '../tpp/tpp-service.ts';
import { type TppOnPage, tppOnPage } from './consent-details.ts';
import type { InteractionState } from '../http/route-guard.ts';
import { type Interaction, loadInteraction } from './interaction-context.ts';
import { type PageNames, pageNamesQuery } from './journey-repository.ts';
import {
  nothingAlongside,
  passwordFactorCustomerQuery,
  type ScaProgress,
  type TakenDecision,
  touchScaProgressReading,
} from './sca-progress-repository.ts';

/**
 * Everything a step of the authorization pages works from, loaded once per request by `loadJourney`:
 * the interaction (only for the browser holding its cookie: the route guard checked it, and
 * oidc-provider checks it too), the
 * customer's progress through strong authentication, which counts the request as activity, and the
 * consent the request binds (read only: a GET never creates one). One activity statement reads the
 * interaction as the engine's find would (the engine's load then takes it), the decision already taken
 * on it and what the step needs next: a GET always renders a page, so the TPP as the pages name it (and
 * the signed-in customer); a sign-in POST, the customer it checks with their lockout. A POST that
 * succeeds redirects, so the TPP is read only if a page is rendered after all.
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

export function loadJourney(deps: { provider: Provider; db: Db; find: BatchedFind; idleTimeoutSeconds: number }, signIn?: SignInRead) {
  return async function loadJourneyStep(ctx: Context & { params: { uid?: string }; state: InteractionState }, next: Next) {
    // Only the browser holding the interaction's cookie counts as its activity (and reads it): the route guard proved it.
    const { uid } = ctx.state.interaction;
    // The interaction comes in the activity statement, read as the engine's find reads it, and the
    // engine's load takes it from there (store/request-prefetch.ts).
    const interactionRead = deps.find.within('Interaction', uid);
    const reading = <T extends object>(alongside: RawBuilder<T>) =>
      touchScaProgressReading(deps.db, uid, deps.idleTimeoutSeconds, interactionRead.row, alongside);
    let names: PageNames | undefined;
    let signedIn: Journey['signIn'];
    let read: Omit<Awaited<ReturnType<typeof reading>>, 'alongside'>;
    if (ctx.method === 'GET') {
      // A GET always renders a page naming the TPP (and the consent page the customer): read in the same statement.
      ({ alongside: names, ...read } = await reading(pageNamesQuery()));
    } else {
      const query = await signInQuery(ctx, uid, signIn);
      if (query) {
        const { alongside, ...rest } = await reading(query);
        if (alongside.subject !== null) signedIn = { subject: alongside.subject, read: toCustomerAndLockout(alongside) };
        read = rest;
      } else {
        read = await reading(nothingAlongside());
      }
    }
    const interaction = await loadInteraction(deps.provider, ctx, interactionRead.read(read.found));
    const clientId = String(interaction.params.client_id);
    const customerId = interaction.session?.accountId;
    let tpp = names && Promise.resolve(tppOnPage(clientDisplayOfRow(names, clientId), clientId));
    let customer =
      names && names.named_customer_id !== null && names.named_customer_id === customerId
        ? Promise.resolve(customerOfCompanion(names.customer))
        : undefined;
    const journey: Journey = {
      interaction,
      tpp: () => (tpp ??= getClientDisplay(deps.db, clientId).then((display) => tppOnPage(display, clientId))),
      customer: () => (customer ??= customerId ? getCustomer(deps.db, customerId) : Promise.resolve(undefined)),
      // Named by any dialect's means (the Berlin Group's SCA scope included); checked at PAR already.
      consent: await consentOfInteraction(deps.db, interaction, requestBinding(interaction.params)),
      progress: read.progress,
      decided: read.decided,
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
