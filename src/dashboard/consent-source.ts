import { auditHistory } from '../audit/audit-trail.ts';
import type { Consent } from '../consents/consent.ts';
import { consentsOfCustomer, getConsent, revokeConsent, revokeConsentsWithTpp } from '../consents/consent-service.ts';
import type { Db } from '../db/connect.ts';
import type { ConsentDirectory, CustomerConsent } from './consent-directory.ts';

/** The dashboard's view of the consent model, through the consents module's service functions only. */

function lastDigits(identification: string) {
  return `account ending ${identification.slice(-4)}`;
}

function toCustomerConsent(consent: Consent): CustomerConsent {
  const { payment } = consent;
  return {
    id: consent.id,
    clientId: consent.clientId,
    type: consent.type,
    status: consent.status,
    permissions: consent.permissions,
    accountIds: consent.selectedAccountIds,
    expiresAt: consent.expiresAt,
    transactionFrom: consent.transactionFrom,
    transactionTo: consent.transactionTo,
    payment: payment && {
      amount: payment.amount,
      currency: payment.currency,
      payeeName: payment.creditorAccount.Name ?? null,
      payeeAccount: lastDigits(payment.creditorAccount.Identification),
      reference: payment.reference,
    },
    createdAt: consent.createdAt,
    statusUpdatedAt: consent.statusUpdatedAt,
    lastUsedAt: consent.lastUsedAt,
  };
}

const asCustomer = (customerId: string) => ({ kind: 'customer' as const, id: customerId });

export function consentSource(db: Db): ConsentDirectory {
  return {
    async listForCustomer(customerId) {
      return (await consentsOfCustomer(db, customerId)).map(toCustomerConsent);
    },
    async findForCustomer(customerId, consentId) {
      const consent = await getConsent(db, consentId);
      return consent && consent.customerId === customerId ? toCustomerConsent(consent) : undefined;
    },
    async revoke(customerId, consentId) {
      return toCustomerConsent(await revokeConsent(db, { consentId, actor: asCustomer(customerId) }));
    },
    async revokeAllWithTpp(customerId, clientId) {
      return (await revokeConsentsWithTpp(db, { customerId, clientId, actor: asCustomer(customerId) })).map(toCustomerConsent);
    },
    async history(consentId) {
      return (await auditHistory(db, 'consent', consentId)).map((entry) => ({
        event: entry.event,
        actorKind: entry.actor.kind,
        occurredAt: entry.occurredAt,
        ...(typeof entry.details.reason === 'string' && entry.actor.kind === 'system' && { reason: entry.details.reason }),
      }));
    },
  };
}
