import type { Context, Next } from 'koa';
import type { Transaction } from 'kysely';
import { type Client, errors, type Grant, type Provider } from 'oidc-provider';
import type { Consent } from '../consents/consent.ts';
import { AccountSelectionInvalid, ConsentExpired } from '../consents/consent-errors.ts';
import { authoriseConsentIn, declineConsentIn, revokeConsentsOfGrantIn } from '../consents/consent-service.ts';
import { IllegalConsentTransition } from '../consents/consent-status.ts';
import type { AccountDirectory, BankAccount } from '../customers/account-directory.ts';
import { inAmbientTransaction } from '../db/ambient-transaction.ts';
import type { Db } from '../db/connect.ts';
import type { Database } from '../db/schema.ts';
import { readForm } from '../http/form-body.ts';
import type { Views } from '../http/views.ts';
import { holdUpserts, upsertingLast } from '../store/held-upserts.ts';
import { getClientDisplay } from '../tpp/tpp-service.ts';
import { accountChoices, paysIntoItself } from '../consents/account-choices.ts';
import type { Wording } from '../wording/wording.ts';
import { bindConsentToGrant } from './consent-grant.ts';
import { consentDetails, noAccountChosen, paidIntoItself, tppOnPage } from './consent-details.ts';
import { claimDecision, claimDecisionWriting, decisionOf } from './decision-repository.ts';
import { DynamicLinkBroken } from './dynamic-linking.ts';
import { finishInteraction, storeResult } from './interaction-context.ts';
import { type Journey, journeyOf } from './journey.ts';
import { GrantNotMergeable, grantManagementOf } from '../oidc/grant-management.ts';
import { approvalHolds, approvalToVerify } from './payment-approval.ts';

/**
 * The customer's decision on the consent page: approve (the consent is authorised in a grant of its
 * own) or deny. Either is taken once per interaction (decision-repository.ts): the claim, the consent change, the
 * grant and the interaction result commit together, so a repeated post finds the decision taken and
 * is sent the same way as the first.
 */

export interface ConsentStepDeps {
  provider: Provider;
  db: Db;
  views: Views;
  accounts: AccountDirectory;
}

type Interaction = Journey['interaction'];

async function customerAccounts(deps: ConsentStepDeps, customerId: string | undefined): Promise<BankAccount[]> {
  return customerId ? deps.accounts.listForCustomer(customerId) : [];
}

async function renderConsent(deps: ConsentStepDeps, ctx: Context, journey: Journey, accounts: readonly BankAccount[], error?: string) {
  const { interaction, consent } = journey;
  const [customer, tpp] = await Promise.all([journey.customer(), journey.tpp()]);
  const scopes = String(interaction.params.scope ?? '')
    .split(' ')
    .filter(Boolean);
  // A payment that changed since the code step is not put to the customer again for approval.
  if (consent && !approvalHolds(consent, interaction.lastSubmission)) return refuseChangedPayment(deps, ctx, journey);
  const choices = consent ? accountChoices(consent, accounts) : [];
  const w = deps.views.wording(ctx);
  deps.views.render(
    ctx,
    'consent',
    {
      uid: interaction.uid,
      clientName: tpp.name,
      tpp,
      customerName: customer?.displayName ?? '',
      scopes,
      consent:
        consent &&
        consentDetails(
          w,
          consent,
          tpp.name,
          choices,
          accounts.find((account) => paysIntoItself(consent, account)),
        ),
      error,
    },
    error ? 400 : 200,
  );
}

/** GET: the consent page, with the customer's accounts this consent can use (a request without a consent offers none). */
export function showConsent(deps: ConsentStepDeps) {
  return async function showConsentStep(ctx: Context) {
    const journey = journeyOf(ctx);
    await renderConsent(deps, ctx, journey, journey.consent ? await customerAccounts(deps, journey.interaction.session?.accountId) : []);
  };
}

/** Account ids come as one `account:<id>` checkbox or radio value per selected account. */
export function selectedAccounts(form: Record<string, string>): string[] {
  const picked = Object.keys(form)
    .filter((key) => key.startsWith('account:'))
    .map((key) => key.slice('account:'.length));
  return form.account ? [...picked, form.account] : picked;
}

/**
 * The customer's own accounts that the page did not offer (another currency, a card for a payment)
 * are refused here; ids that are not the customer's at all are left to the consent service's check.
 */
function refuseUnofferedAccounts(consent: Consent, owned: readonly BankAccount[], selected: readonly string[]) {
  const chosen = owned.filter((account) => selected.includes(account.id));
  if (chosen.some((account) => paysIntoItself(consent, account)))
    throw new AccountSelectionInvalid('that account is the one the money goes to', { paysIntoItself: true });
  const offered = new Set(accountChoices(consent, owned).map((account) => account.id));
  if (chosen.some((account) => !offered.has(account.id))) {
    throw new AccountSelectionInvalid('that account cannot be used for this request');
  }
}

/** Why the approval was refused, in the customer's words: no choice, the account the money goes to, or another unusable one. */
function selectionError(
  w: Wording,
  error: AccountSelectionInvalid,
  consent: Consent | undefined,
  selected: readonly string[],
  accounts: readonly BankAccount[],
) {
  if (selected.length === 0 && consent) return noAccountChosen(w, consent);
  const destination = consent && accounts.find((account) => selected.includes(account.id) && paysIntoItself(consent, account));
  if (error.paysIntoItself && consent && destination) return paidIntoItself(w, consent, destination);
  return w.t('consent.error.accountUnusable');
}

/**
 * The payment changed after the customer approved it with the second factor: nothing is authorised,
 * the consent stays AwaitingAuthorisation, the customer is told why, and the way back takes the TPP
 * an access_denied.
 */
async function refuseChangedPayment(deps: ConsentStepDeps, ctx: Context, { tpp, interaction }: Journey) {
  const { name } = await tpp();
  const returnTo = await storeResult(
    interaction,
    { error: 'access_denied', error_description: 'the payment changed after the customer approved it' },
    false,
  );
  deps.views.render(ctx, 'payment-changed', { clientName: name, returnTo }, 409);
}

/**
 * The grant this approval goes into. A consent gets a grant of its own, so revoking it never takes
 * another consent's tokens along, unless the TPP asked (Grant Management) to `merge` it into one of
 * its grants or to `replace` what a grant holds; a request without a consent extends the session's grant.
 */
async function grantFor(provider: Provider, interaction: Interaction, consent: Consent | undefined): Promise<Grant> {
  const { prompt, params, session } = interaction;
  const managed = grantManagementOf(params);
  let existing: InstanceType<Provider['Grant']> | undefined;
  if (managed.grantId) {
    const named = await provider.Grant.find(managed.grantId);
    if (!named || named.accountId !== session!.accountId || named.clientId !== String(params.client_id)) throw new GrantNotMergeable();
    if (managed.action === 'merge') existing = named;
  } else if (!consent && managed.action !== 'replace' && interaction.grantId) {
    existing = await provider.Grant.find(interaction.grantId);
    if (!existing) throw new Error('interaction references a grant that no longer exists');
  }
  const grant =
    existing ||
    new provider.Grant({
      ...(managed.action === 'replace' && { jti: managed.grantId }),
      accountId: session!.accountId,
      clientId: String(params.client_id),
    });
  const details = prompt.details as {
    missingOIDCScope?: string[];
    missingOIDCClaims?: string[];
    missingResourceScopes?: Record<string, string[]>;
  };
  if (consent) {
    bindConsentToGrant(
      provider,
      grant,
      { scope: String(params.scope ?? ''), resource: typeof params.resource === 'string' ? params.resource : undefined },
      consent,
      existing !== undefined,
    );
  } else if (details.missingOIDCScope) {
    grant.addOIDCScope(details.missingOIDCScope.join(' '));
  }
  if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  return grant;
}

/** Sends the browser on to the provider's resume URL: the outcome stored in the interaction decides what the TPP gets. */
function sendOn(ctx: Context, interaction: Interaction) {
  ctx.redirect(interaction.returnTo);
  ctx.status = 303;
}

/** Authorises the consent in the approval's grant, within the approval's transaction. */
function authoriseIn(
  trx: Transaction<Database>,
  interaction: Interaction,
  consent: Consent,
  accounts: readonly BankAccount[],
  selected: string[],
  grantId: string,
) {
  refuseUnofferedAccounts(consent, accounts, selected);
  return authoriseConsentIn(trx, accounts, {
    approval: approvalToVerify(consent, interaction.lastSubmission),
    consentId: consent.id,
    clientId: String(interaction.params.client_id),
    customerId: interaction.session!.accountId,
    accountIds: selected,
    grantId,
    // iat counts whole seconds; rounding up recognises a re-authentication started within the second
    // of the first approval (an account-access consent only, by the same customer, so nothing is lost).
    startedAt: new Date((interaction.iat + 1) * 1000),
  });
}

/**
 * The approval's writes through the provider's models: the grant saved, `authorise` run with its id,
 * the interaction's result stored. The caller holds the two saves (store/held-upserts.ts) to write them
 * with the claim, or together at the end of its transaction.
 */
async function saveApproval(grant: Grant, interaction: Interaction, authorise?: (grantId: string) => Promise<unknown>) {
  const grantId = await grant.save();
  await authorise?.(grantId);
  await storeResult(interaction, { consent: { grantId } }, true);
}

/**
 * POST approve. The claim of the decision, the grant and the interaction result are written together,
 * so a failure leaves no grant behind and a concurrent post finds either nothing decided or everything
 * done. With no consent to change (and no grant to replace), that is one statement; otherwise one
 * transaction claims first, changes the consents and audits, and writes grant and result last. The
 * customer's accounts are read once, before it.
 */
export function approveConsent(deps: ConsentStepDeps) {
  return async function approveConsentStep(ctx: Context) {
    const { provider, db } = deps;
    const journey = journeyOf(ctx);
    const { interaction, consent } = journey;
    const { params, uid } = interaction;
    const clientId = String(params.client_id);
    const selected = selectedAccounts(await readForm(ctx));
    const accounts = consent ? await customerAccounts(deps, interaction.session!.accountId) : [];
    const managed = grantManagementOf(params);
    try {
      // A post that finds the decision taken sends the browser on to its outcome, like the first one.
      if (!consent && managed.action !== 'replace') {
        const grant = await grantFor(provider, interaction, undefined);
        const { rows } = await holdUpserts(() => saveApproval(grant, interaction));
        await claimDecisionWriting(db, uid, 'approved', clientId, rows);
      } else {
        await inAmbientTransaction(db, async (trx) => {
          if (!(await claimDecision(trx, uid, 'approved', clientId))) return;
          const grant = await grantFor(provider, interaction, consent);
          // replace: what the grant held goes first (its consents revoked, their tokens with them); its id stays.
          if (managed.action === 'replace')
            await revokeConsentsOfGrantIn(trx, { grantId: managed.grantId!, clientId, reason: 'replaced by the TPP (grant management)' });
          const authorise = consent && ((grantId: string) => authoriseIn(trx, interaction, consent, accounts, selected, grantId));
          await upsertingLast(trx, () => saveApproval(grant, interaction, authorise));
        });
      }
      sendOn(ctx, interaction);
    } catch (error) {
      if (error instanceof AccountSelectionInvalid)
        return renderConsent(
          deps,
          ctx,
          journey,
          accounts,
          selectionError(deps.views.wording(ctx), error, journey.consent, selected, accounts),
        );
      if (error instanceof GrantNotMergeable)
        return finishInteraction(ctx, interaction, { error: 'access_denied', error_description: error.message }, false);
      if (error instanceof DynamicLinkBroken) return refuseChangedPayment(deps, ctx, journey);
      if (error instanceof ConsentExpired || error instanceof IllegalConsentTransition) {
        return finishInteraction(
          ctx,
          interaction,
          { error: 'access_denied', error_description: 'the consent can no longer be authorised' },
          false,
        );
      }
      throw error;
    }
  };
}

/**
 * POST deny: a consent awaiting the customer is Rejected, and the TPP hears access_denied; taken once,
 * like approval. Without a consent, the claim and the result are one statement.
 */
export function denyConsent(deps: ConsentStepDeps) {
  return async function denyConsentStep(ctx: Context) {
    const { interaction, consent } = journeyOf(ctx);
    const clientId = String(interaction.params.client_id);
    const denied = () => storeResult(interaction, { error: 'access_denied', error_description: 'the customer denied the request' }, false);
    if (!consent) {
      await claimDecisionWriting(deps.db, interaction.uid, 'denied', clientId, (await holdUpserts(denied)).rows);
    } else {
      await inAmbientTransaction(deps.db, async (trx) => {
        if (!(await claimDecision(trx, interaction.uid, 'denied', clientId))) return;
        await declineConsentIn(trx, { consentId: consent.id, clientId, customerId: interaction.session?.accountId ?? null });
        await denied();
      });
    }
    sendOn(ctx, interaction);
  };
}

/** The TPP's own site, for the way back once the interaction has ended: its client_uri, else its redirect URI's origin. */
const isHttps = (uri: unknown): uri is string => typeof uri === 'string' && URL.canParse(uri) && new URL(uri).protocol === 'https:';

function wayBackTo(client: Client | undefined): string | undefined {
  if (isHttps(client?.clientUri)) return client.clientUri;
  const redirectUri = client?.redirectUris?.[0];
  return isHttps(redirectUri) ? new URL(redirectUri).origin : undefined;
}

/**
 * POST approve or deny once the decision was taken, after the TPP was sent on: the interaction has
 * ended, so loading it (listed after this step) fails; the decision is then looked up and the customer
 * told the TPP already has it, with the way back. While the interaction lasts, `sendOnWhenDecided` answers.
 */
export function answerRepeatedDecision(deps: ConsentStepDeps) {
  return async function answerRepeatedDecisionStep(ctx: Context & { params: { uid?: string } }, next: () => Promise<unknown>) {
    try {
      await next();
    } catch (error) {
      if (!(error instanceof errors.SessionNotFound)) throw error;
      const taken = await decisionOf(deps.db, String(ctx.params.uid));
      if (!taken) throw error;
      const client = await deps.provider.Client.find(taken.clientId);
      const tpp = tppOnPage(await getClientDisplay(deps.db, taken.clientId), client?.clientName ?? taken.clientId);
      deps.views.render(
        ctx,
        'decided',
        { clientName: tpp.name, approved: taken.decision === 'approved', returnTo: wayBackTo(client) },
        409,
      );
    }
  };
}

/** POST approve or deny once the decision was taken, while the interaction lasts: the browser is sent on to the first outcome. */
export function sendOnWhenDecided() {
  return async function sendOnWhenDecidedStep(ctx: Context, next: Next) {
    const { interaction, decided } = journeyOf(ctx);
    if (decided) return sendOn(ctx, interaction);
    await next();
  };
}
