import { auditHistory } from '../audit/audit-trail.ts';
import { type Consent, readScopesOf } from '../consents/consent.ts';
import { consentsOfCustomer, getConsent, revokeConsent, revokeConsentsWithTpp } from '../consents/consent-service.ts';
import { usesOfConsent } from '../consents/consent-use.ts';
import { vrpUsageOf } from '../consents/vrp/vrp-payment-service.ts';
import { vrpFacts } from '../consents/vrp/vrp-terms.ts';
import type { Db } from '../db/connect.ts';
import type { ConsentDirectory, CustomerConsent } from './consent-directory.ts';

/** The dashboard's view of the consent model, through the consents module's service functions only. */

/** A VRP consent's terms and, read from the payment ledger now, its current periods. */
async function vrpOf(db: Db, consent: Consent): Promise<CustomerConsent['vrp']> {
  if (!consent.vrp) return null;
  const usage = (await vrpUsageOf(db, consent)) ?? [];
  return {
    facts: vrpFacts(consent.vrp, consent.createdAt),
    periods: usage.map((used) => ({
      periodType: used.PeriodType,
      currency: used.Currency,
      limit: used.Limit,
      paid: used.Paid,
      remaining: used.Remaining,
      from: new Date(used.PeriodStartDateTime),
      until: new Date(used.PeriodEndDateTime),
    })),
  };
}

async function toCustomerConsent(db: Db, consent: Consent): Promise<CustomerConsent> {
  const { payment } = consent;
  return {
    id: consent.id,
    clientId: consent.clientId,
    type: consent.type,
    status: consent.status,
    permissions: readScopesOf(consent),
    accountIds: consent.selectedAccountIds,
    recurring: consent.recurring,
    frequencyPerDay: consent.frequencyPerDay,
    expiresAt: consent.expiresAt,
    transactionFrom: consent.transactionFrom,
    transactionTo: consent.transactionTo,
    payment: payment && {
      amount: payment.amount,
      currency: payment.currency,
      payeeName: payment.creditorName || null,
      payeeScheme: payment.creditorAccount.scheme,
      payeeIdentification: payment.creditorAccount.identification,
      reference: payment.reference,
    },
    vrp: await vrpOf(db, consent),
    createdAt: consent.createdAt,
    statusUpdatedAt: consent.statusUpdatedAt,
    lastUsedAt: consent.lastUsedAt,
  };
}

const asCustomer = (customerId: string) => ({ kind: 'customer' as const, id: customerId });

export function consentSource(db: Db): ConsentDirectory {
  return {
    async listForCustomer(customerId) {
      return Promise.all((await consentsOfCustomer(db, customerId)).map((consent) => toCustomerConsent(db, consent)));
    },
    async findForCustomer(customerId, consentId) {
      const consent = await getConsent(db, consentId);
      return consent && consent.customerId === customerId ? toCustomerConsent(db, consent) : undefined;
    },
    async revoke(customerId, consentId) {
      return toCustomerConsent(db, await revokeConsent(db, { consentId, actor: asCustomer(customerId) }));
    },
    async revokeAllWithTpp(customerId, clientIds) {
      return Promise.all(
        (await revokeConsentsWithTpp(db, { customerId, clientIds, actor: asCustomer(customerId) })).map((consent) =>
          toCustomerConsent(db, consent),
        ),
      );
    },
    async history(consentId) {
      const [consent, audit, uses] = await Promise.all([
        getConsent(db, consentId),
        auditHistory(db, 'consent', consentId),
        usesOfConsent(db, consentId),
      ]);
      const transitions = audit.map((entry) => ({
        event: entry.event,
        actorKind: entry.actor.kind,
        occurredAt: entry.occurredAt,
        ...(typeof entry.details.reason === 'string' && entry.actor.kind === 'system' && { reason: entry.details.reason }),
      }));
      const used = uses.map((use) => ({
        event: `token.${use.kind}`,
        actorKind: use.clientId === consent?.clientId ? 'tpp' : 'bank',
        occurredAt: use.occurredAt,
      }));
      return [...transitions, ...used].toSorted((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime());
    },
  };
}
