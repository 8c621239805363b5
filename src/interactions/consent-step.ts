import type { Context } from 'koa';
import type { Provider } from 'oidc-provider';
import type { Consent } from '../consents/consent.ts';
import { consentOfInteraction } from '../consents/consent-binding.ts';
import { DETAILS_TYPE_OF, INTENT_CLAIM } from '../protocol/consent-types.ts';
import { AccountSelectionInvalid, ConsentExpired } from '../consents/consent-errors.ts';
import { authoriseConsent, rejectConsent } from '../consents/consent-service.ts';
import { IllegalConsentTransition } from '../consents/consent-status.ts';
import { type BankAccount, postgresAccountDirectory } from '../customers/account-directory.ts';
import { getCustomer } from '../customers/customer-service.ts';
import type { Db } from '../db/connect.ts';
import { readForm } from '../http/form-body.ts';
import type { Views } from '../http/views.ts';
import { setOwnTtl } from '../engine/engine-internals.ts';
import { getClientDisplay } from '../tpp/tpp-service.ts';
import { accountChoices } from './account-choices.ts';
import { consentDetails, type TppOnPage, tppOnPage } from './consent-details.ts';
import { DynamicLinkBroken } from './dynamic-linking.ts';
import { finishInteraction, type LoadedInteraction } from './interaction-context.ts';
import { approvalHolds, approvalToVerify } from './payment-approval.ts';

export interface ConsentStepDeps {
  provider: Provider;
  db: Db;
  views: Views;
}

type Interaction = LoadedInteraction['interaction'];

/** The consent the request is bound to; it must still be this client's and awaiting the customer. */
async function boundConsent(db: Db, interaction: Interaction): Promise<Consent | undefined> {
  return consentOfInteraction(db, { cid: interaction.cid, params: interaction.params });
}

async function customerAccounts(db: Db, customerId: string | undefined): Promise<BankAccount[]> {
  return customerId ? postgresAccountDirectory(db).listForCustomer(customerId) : [];
}

/** The TPP as the pages name it: its registered name and logo, else the client's own name. */
async function tppOf(db: Db, { interaction, clientName }: LoadedInteraction): Promise<TppOnPage> {
  return tppOnPage(await getClientDisplay(db, String(interaction.params.client_id)), clientName);
}

async function renderConsent(deps: ConsentStepDeps, ctx: Context, loaded: LoadedInteraction, error?: string) {
  const { interaction } = loaded;
  const customerId = interaction.session?.accountId;
  const customer = customerId ? await getCustomer(deps.db, customerId) : undefined;
  const scopes = String(interaction.params.scope ?? '').split(' ').filter(Boolean);
  const consent = await boundConsent(deps.db, interaction);
  const tpp = await tppOf(deps.db, loaded);
  // A payment that changed since the code step is not put to the customer again for approval.
  if (consent && !approvalHolds(consent, interaction.lastSubmission)) return refuseChangedPayment(deps, ctx, tpp);
  const choices = consent ? accountChoices(consent, await customerAccounts(deps.db, customerId)) : [];
  deps.views.render(
    ctx,
    'consent',
    { uid: interaction.uid, clientName: tpp.name, tpp, customerName: customer?.displayName ?? '', scopes, consent: consent && consentDetails(consent, choices), error },
    error ? 400 : 200,
  );
}

export async function showConsent(deps: ConsentStepDeps, ctx: Context, loaded: LoadedInteraction) {
  await renderConsent(deps, ctx, loaded);
}

/** Account ids come as one `account:<id>` checkbox or radio value per selected account. */
function selectedAccounts(form: Record<string, string>): string[] {
  const picked = Object.keys(form).filter((key) => key.startsWith('account:')).map((key) => key.slice('account:'.length));
  return form.account ? [...picked, form.account] : picked;
}

/**
 * The customer's own accounts that the page did not offer (another currency, a card for a payment)
 * are refused here; ids that are not the customer's at all are left to the consent service's check.
 */
async function refuseUnofferedAccounts(db: Db, consent: Consent, customerId: string, selected: readonly string[]) {
  const owned = await customerAccounts(db, customerId);
  const offered = new Set(accountChoices(consent, owned).map((account) => account.id));
  if (selected.some((id) => owned.some((account) => account.id === id) && !offered.has(id))) {
    throw new AccountSelectionInvalid('that account cannot be used for this request');
  }
}

/**
 * The payment changed after the customer approved it with the second factor: nothing is authorised,
 * the consent stays AwaitingAuthorisation, the customer is told why, and the way back takes the TPP
 * an access_denied.
 */
async function refuseChangedPayment(deps: ConsentStepDeps, ctx: Context, tpp: TppOnPage) {
  const returnTo = await deps.provider.interactionResult(
    ctx.req,
    ctx.res,
    { error: 'access_denied', error_description: 'the payment changed after the customer approved it' },
    { mergeWithLastSubmission: false },
  );
  deps.views.render(ctx, 'payment-changed', { clientName: tpp.name, returnTo }, 409);
}

async function grantFor(provider: Provider, interaction: Interaction, consent: Consent | undefined) {
  const { prompt, params, session } = interaction;
  // A consent gets a grant of its own, so revoking it never takes another consent's tokens along.
  const existing = consent ? undefined : interaction.grantId && (await provider.Grant.find(interaction.grantId));
  if (interaction.grantId && !consent && !existing) throw new Error('interaction references a grant that no longer exists');
  const grant = existing || new provider.Grant({ accountId: session!.accountId, clientId: String(params.client_id) });
  const details = prompt.details as {
    missingOIDCScope?: string[];
    missingOIDCClaims?: string[];
    missingResourceScopes?: Record<string, string[]>;
  };
  if (consent) {
    // The new grant starts empty, so it takes everything the request asked for, not only what is missing.
    grant.addOIDCScope(String(params.scope ?? ''));
    grant.addOIDCClaims([INTENT_CLAIM]);
    if (typeof params.resource === 'string') grant.addResourceScope(params.resource, String(params.scope ?? ''));
    grant.addRar({ type: DETAILS_TYPE_OF[consent.type], consent_id: consent.id });
    // The grant, and every token that depends on it, ends with the consent at the latest.
    if (consent.expiresAt) {
      const untilExpiry = Math.ceil((consent.expiresAt.getTime() - Date.now()) / 1000);
      setOwnTtl(grant, Math.min(grant.expiration, untilExpiry));
    }
  } else if (details.missingOIDCScope) {
    grant.addOIDCScope(details.missingOIDCScope.join(' '));
  }
  if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  return grant;
}

export async function approveConsent(deps: ConsentStepDeps, ctx: Context, loaded: LoadedInteraction) {
  const { provider, views, db } = deps;
  const { interaction } = loaded;
  const { prompt, params, session } = interaction;
  if (prompt.name !== 'consent' || !session) {
    views.render(ctx, 'error', { message: 'This step is not expected now. Start again from the application.' }, 400);
    return;
  }
  const form = await readForm(ctx);
  const consent = await boundConsent(db, interaction);
  const grant = await grantFor(provider, interaction, consent);
  const grantId = await grant.save();
  if (consent) {
    try {
      await refuseUnofferedAccounts(db, consent, session.accountId, selectedAccounts(form));
      await authoriseConsent(db, postgresAccountDirectory(db), {
        approval: approvalToVerify(consent, interaction.lastSubmission),
        consentId: consent.id,
        clientId: String(params.client_id),
        customerId: session.accountId,
        accountIds: selectedAccounts(form),
        grantId,
        // iat counts whole seconds; rounding up recognises a re-authentication started within the second
        // of the first approval (an account-access consent only, by the same customer, so nothing is lost).
        startedAt: new Date((interaction.iat + 1) * 1000),
      });
    } catch (error) {
      await grant.destroy();
      if (error instanceof AccountSelectionInvalid) return renderConsent(deps, ctx, loaded, `Choose your accounts again: ${error.message}.`);
      if (error instanceof DynamicLinkBroken) return refuseChangedPayment(deps, ctx, await tppOf(db, loaded));
      if (error instanceof ConsentExpired || error instanceof IllegalConsentTransition) {
        return finishInteraction(provider, ctx, { error: 'access_denied', error_description: 'the consent can no longer be authorised' }, false);
      }
      throw error;
    }
  }
  await finishInteraction(provider, ctx, { consent: { grantId } }, true);
}

export async function denyConsent(deps: ConsentStepDeps, ctx: Context, { interaction }: LoadedInteraction) {
  const consent = await boundConsent(deps.db, interaction);
  if (consent?.status === 'AwaitingAuthorisation') {
    await rejectConsent(deps.db, { consentId: consent.id, clientId: consent.clientId, customerId: interaction.session?.accountId ?? null });
  }
  await finishInteraction(deps.provider, ctx, { error: 'access_denied', error_description: 'the customer denied the request' }, false);
}
