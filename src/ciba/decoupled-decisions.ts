import { errors, type Provider } from 'oidc-provider';
import type { Logger } from 'pino';
import { appendAuditEvent } from '../audit/audit-trail.ts';
import type { Consent } from '../consents/consent.ts';
import { AccountSelectionInvalid, ConsentExpired } from '../consents/consent-errors.ts';
import { authoriseConsentIn, declineConsentIn, getConsentForClient } from '../consents/consent-service.ts';
import { IllegalConsentTransition } from '../consents/consent-status.ts';
import type { AccountDirectory, BankAccount } from '../customers/account-directory.ts';
import type { CustomerAuthentication } from '../customers/authentication.ts';
import { inAmbientTransaction } from '../db/ambient-transaction.ts';
import type { Db } from '../db/connect.ts';
import { accountChoices } from '../consents/account-choices.ts';
import { bindConsentToGrant } from '../interactions/consent-grant.ts';
import { assertPaymentUnchanged, DynamicLinkBroken, linkedPaymentOf, paymentDigestMatches } from '../interactions/dynamic-linking.ts';
import { SCA_ACR } from '../protocol/acr.ts';
import { upsertingLast } from '../store/held-upserts.ts';
import { claimDecision, type DecoupledRequestRow, findForCustomer, recordGrant } from './decoupled-repository.ts';

/**
 * The customer's decision on a decoupled request, from the dashboard page or the bank's app alike: a CIBA
 * request of the provider, or a consent's own decoupled authorisation (the Berlin Group's; no CIBA request,
 * no token: only the consent is decided).
 * Approval needs the one-time code (for a payment, of the payment shown: dynamic linking) and takes the
 * decision once: the claim on the request row, the grant, the consent's authorisation, the audit event
 * and the provider's result commit together, so a second approval finds the request decided and no
 * second grant is made. The TPP's ping (ping mode) follows the commit, so what it fetches is there.
 */

export interface DecisionDeps {
  provider: Provider;
  db: Db;
  accounts: AccountDirectory;
  authentication: CustomerAuthentication;
  logger: Logger;
}

export interface Approval {
  code: string;
  accountIds: readonly string[];
  /** The digest of the payment the device showed (payments and VRP only). */
  paymentDigest?: string | undefined;
}

export type DecisionOutcome =
  | { outcome: 'approved' | 'denied' }
  /** Not the customer's, or no such request. */
  | { outcome: 'not_found' }
  /** Already decided, or expired: nothing changes. */
  | { outcome: 'decided' }
  | { outcome: 'code_format' | 'code_rejected' | 'code_reused' | 'payment_changed' | 'accounts_invalid' | 'consent_unavailable' }
  | { outcome: 'locked'; until: Date };

/** The provider's request ended (expired) between the claim's check and the result: nothing is decided. */
class RequestEnded extends Error {
  override name = 'RequestEnded';
}

const isOpen = (row: DecoupledRequestRow) => row.status === 'pending' && row.expires_at > new Date();

/** The request and its consent, while both can still be decided. */
export async function openRequest(
  db: Db,
  customerId: string,
  id: string,
): Promise<{ row: DecoupledRequestRow; consent: Consent | undefined } | undefined> {
  const row = await findForCustomer(db, customerId, id);
  if (!row) return undefined;
  const consent = row.consent_id ? await getConsentForClient(db, row.client_id, row.consent_id) : undefined;
  return { row, consent };
}

/** One account for a payment or a funds check, at least one to read, each offered for this consent. */
function selectionFits(consent: Consent, offered: readonly BankAccount[], selected: readonly string[]): boolean {
  const offeredIds = new Set(offered.map((account) => account.id));
  if (selected.length === 0 || selected.some((id) => !offeredIds.has(id))) return false;
  return consent.type === 'account_access' || selected.length === 1;
}

/** The dynamic-linking check of the locked consent inside the authorising transaction. */
function approvalOf(consent: Consent, digest: string | undefined) {
  if (!linkedPaymentOf(consent) || digest === undefined) return undefined;
  return {
    digest,
    verify(locked: Consent) {
      const linked = linkedPaymentOf(locked);
      if (!linked) throw new DynamicLinkBroken();
      assertPaymentUnchanged(digest, linked);
    },
  };
}

/**
 * Records the outcome on the provider's BackchannelAuthenticationRequest, inside the caller's
 * transaction. provider.backchannelResult does the same and then pings the TPP, which inside the
 * transaction would tell the TPP before the result is committed; the ping is sent after (pingTpp).
 */
async function settle(
  provider: Provider,
  authReqId: string,
  result: { grantId: string; rar: Record<string, unknown>[] } | { error: string; errorDescription: string },
) {
  const request = await provider.BackchannelAuthenticationRequest.find(authReqId, { ignoreExpiration: true });
  if (!request) throw new RequestEnded('the provider no longer holds this backchannel authentication request');
  if ('grantId' in result) {
    Object.assign(request, {
      grantId: result.grantId,
      acr: SCA_ACR,
      amr: ['pwd', 'otp'],
      authTime: Math.floor(Date.now() / 1000),
      rar: result.rar,
    });
  } else {
    Object.assign(request, result);
  }
  await request.save();
  return request;
}

/**
 * Ping mode: tells the TPP its result is ready. Not awaited by the customer's request (a slow TPP does
 * not hold up the customer); the guarded fetch (SSRF) is the provider's `fetch`; a TPP that misses the
 * ping can still poll.
 */
function pingTpp(deps: DecisionDeps, clientId: string, request: Awaited<ReturnType<typeof settle>>): void {
  const ping = async () => {
    const client = await deps.provider.Client.find(clientId);
    if (client?.backchannelTokenDeliveryMode === 'ping') await client.backchannelPing(request);
  };
  ping().catch((error: unknown) => deps.logger.warn({ err: error, clientId }, "the TPP's CIBA notification endpoint was not reached"));
}

export async function approveDecoupledRequest(
  deps: DecisionDeps,
  customerId: string,
  id: string,
  approval: Approval,
): Promise<DecisionOutcome> {
  const { provider, db } = deps;
  const found = await openRequest(db, customerId, id);
  if (!found) return { outcome: 'not_found' };
  const { row, consent } = found;
  if (!isOpen(row)) return { outcome: 'decided' };
  if (!consent) return { outcome: 'consent_unavailable' };
  const linked = linkedPaymentOf(consent);
  if (linked && !paymentDigestMatches(approval.paymentDigest ?? '', linked)) return { outcome: 'payment_changed' };
  const accounts = await deps.accounts.listForCustomer(customerId);
  if (!selectionFits(consent, accountChoices(consent, accounts), approval.accountIds)) return { outcome: 'accounts_invalid' };
  if (!/^\d{6}$/.test(approval.code)) return { outcome: 'code_format' };
  const check = await deps.authentication.checkOneTimeCode(customerId, approval.code);
  if (check.outcome === 'locked') return check;
  if (check.outcome !== 'verified') return { outcome: check.outcome === 'reused' ? 'code_reused' : 'code_rejected' };

  try {
    const settled = await inAmbientTransaction(db, async (trx) => {
      const claimed = await claimDecision(trx, row.id, customerId, 'approved');
      if (!claimed) return undefined;
      const authorise = (grantId: string | null) =>
        authoriseConsentIn(trx, accounts, {
          approval: approvalOf(consent, approval.paymentDigest),
          consentId: consent.id,
          clientId: row.client_id,
          customerId,
          accountIds: approval.accountIds,
          grantId,
          startedAt: row.created_at,
        });
      const audit = (grantId: string | null) =>
        appendAuditEvent(trx, {
          subjectType: 'decoupled_request',
          subjectId: row.id,
          event: 'decoupled_request.approved',
          actor: { kind: 'customer', id: customerId },
          details: { clientId: row.client_id, consentId: consent.id, grantId },
        });
      // A consent's own decoupled authorisation (no CIBA request): the consent is authorised and no token
      // issued; the TPP reads the outcome on the consent, and the bank's API checks it by the consent's id.
      if (row.auth_req_id === null) {
        await authorise(null);
        await audit(null);
        return { settled: undefined };
      }
      const authReqId = row.auth_req_id;
      const grant = new provider.Grant({ accountId: customerId, clientId: row.client_id });
      bindConsentToGrant(provider, grant, { scope: row.scope, resource: row.resource ?? undefined }, consent, false);
      // The grant and the provider's result are saved together, in one statement before the commit.
      return upsertingLast(trx, async () => {
        const grantId = await grant.save();
        await authorise(grantId);
        await recordGrant(trx, row.id, grantId);
        await audit(grantId);
        return { settled: await settle(provider, authReqId, { grantId, rar: grant.rar ?? [] }) };
      });
    });
    if (!settled) return { outcome: 'decided' };
    if (settled.settled) pingTpp(deps, row.client_id, settled.settled);
    return { outcome: 'approved' };
  } catch (error) {
    if (error instanceof DynamicLinkBroken) return { outcome: 'payment_changed' };
    if (error instanceof RequestEnded) return { outcome: 'decided' };
    if (error instanceof AccountSelectionInvalid) return { outcome: 'accounts_invalid' };
    if (error instanceof ConsentExpired || error instanceof IllegalConsentTransition) return { outcome: 'consent_unavailable' };
    throw error;
  }
}

/** Denial: the consent is Rejected and the TPP hears access_denied; taken once, like approval. */
export async function denyDecoupledRequest(deps: DecisionDeps, customerId: string, id: string): Promise<DecisionOutcome> {
  const { provider, db } = deps;
  const found = await openRequest(db, customerId, id);
  if (!found) return { outcome: 'not_found' };
  if (!isOpen(found.row)) return { outcome: 'decided' };
  const { row, consent } = found;
  const settled = await inAmbientTransaction(db, async (trx) => {
    if (!(await claimDecision(trx, row.id, customerId, 'denied'))) return undefined;
    if (consent) await declineConsentIn(trx, { consentId: consent.id, clientId: row.client_id, customerId });
    await appendAuditEvent(trx, {
      subjectType: 'decoupled_request',
      subjectId: row.id,
      event: 'decoupled_request.denied',
      actor: { kind: 'customer', id: customerId },
      details: { clientId: row.client_id, consentId: row.consent_id },
    });
    // A consent's own decoupled authorisation has no CIBA request to settle: the TPP reads the rejection on the consent.
    if (row.auth_req_id === null) return { settled: undefined };
    const denied = new errors.AccessDenied('the customer denied the request');
    return {
      settled: await settle(provider, row.auth_req_id, { error: denied.error, errorDescription: String(denied.error_description) }),
    };
  }).catch((error: unknown) => {
    if (error instanceof RequestEnded) return undefined;
    throw error;
  });
  if (!settled) return { outcome: 'decided' };
  if (settled.settled) pingTpp(deps, row.client_id, settled.settled);
  return { outcome: 'denied' };
}
