import { appendAuditEvent } from '../audit/audit-trail.ts';
import type { Db } from '../db/connect.ts';
import type { ConsentStatus, ConsentType } from '../protocol/consent-types.ts';
import { effectiveStatus } from './consent.ts';
import { bankClock, countAccessesWithoutCustomer, insertAccess } from './consent-access-repository.ts';
import { ConsentNotFound } from './consent-errors.ts';
import { lockConsent } from './consent-repository.ts';
import type { Actor } from './consent-service.ts';

/**
 * Account accesses under a consent, recorded by the bank's resource servers and decided one at a time
 * per consent, with the machinery of the VRP limits: the consent row is locked, so concurrent requests
 * queue and each sees every access allowed before it; the clock is the database's, read after the lock,
 * and the bank date is its day in the bank's time zone (BANK_TIME_ZONE). An access is allowed only under
 * an Authorised, unexpired account-access consent. `frequencyPerDay` (Berlin Group; null, unlimited, for
 * UK consents) limits the accesses made without the customer present on one bank date; an access with
 * the customer present is recorded but neither counted nor refused by it.
 *
 * An allowed access is written to the ledger and audited (`access.recorded`: not a `consent.*` event,
 * which the metrics count as transitions) in one transaction. A refusal
 * writes nothing: it changes nothing, a refused retry must not be able to grow the ledger, and what the
 * resource server is told is decided again from the same ledger on every request.
 */

export interface ConsentAccessRequest {
  consentId: string;
  /** What is read: 'accounts', 'balances', 'transactions' or the resource server's own label (validated at the edge). */
  resource: string;
  accountId: string | null;
  /** The customer is present (the TPP passed on their IP address): recorded, not counted. */
  customerPresent: boolean;
  actor: Actor;
  /** The bank's IANA time zone, whose days frequencyPerDay counts. */
  bankTimeZone: string;
}

export interface ConsentAccessAllowed {
  outcome: 'allowed';
  accessId: string;
  consentId: string;
  accessedAt: Date;
  /** The bank date the access counts on (YYYY-MM-DD). */
  bankDate: string;
  customerPresent: boolean;
  /** Accesses without the customer present on this bank date, this one included when it is one. */
  accessesToday: number;
  /** null: no limit. */
  frequencyPerDay: number | null;
  /** What remains of today's limit; null when there is none. */
  remaining: number | null;
}

/** Why an access was refused. */
export type ConsentAccessRefusal =
  | { outcome: 'refused'; reason: 'not_account_access'; consentId: string; type: ConsentType }
  | { outcome: 'refused'; reason: 'not_authorised'; consentId: string; status: ConsentStatus }
  | {
      outcome: 'refused';
      reason: 'frequency_exceeded';
      consentId: string;
      bankDate: string;
      frequencyPerDay: number;
      accessesToday: number;
    };

export type ConsentAccessDecision = ConsentAccessAllowed | ConsentAccessRefusal;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Decides one access (see the module comment). Throws ConsentNotFound for an unknown id. */
export async function recordConsentAccess(db: Db, request: ConsentAccessRequest): Promise<ConsentAccessDecision> {
  if (!UUID.test(request.consentId)) throw new ConsentNotFound();
  return db.transaction().execute(async (trx): Promise<ConsentAccessDecision> => {
    const row = await lockConsent(trx, request.consentId);
    if (!row) throw new ConsentNotFound();
    const consentId = row.id;
    if (row.type !== 'account_access') return { outcome: 'refused', reason: 'not_account_access', consentId, type: row.type };

    const { now, bankDate } = await bankClock(trx, request.bankTimeZone);
    const status = effectiveStatus(row, now);
    if (status !== 'Authorised') return { outcome: 'refused', reason: 'not_authorised', consentId, status };

    const limit = row.frequency_per_day;
    const counted = await countAccessesWithoutCustomer(trx, consentId, bankDate);
    if (!request.customerPresent && limit !== null && counted >= limit) {
      return { outcome: 'refused', reason: 'frequency_exceeded', consentId, bankDate, frequencyPerDay: limit, accessesToday: counted };
    }

    const accessId = await insertAccess(trx, {
      consent_id: consentId,
      at: now,
      bank_date: bankDate,
      customer_present: request.customerPresent,
      resource: request.resource,
      account_id: request.accountId,
      resource_server: request.actor.id ?? '',
    });
    const accessesToday = request.customerPresent ? counted : counted + 1;
    const remaining = limit === null ? null : Math.max(0, limit - accessesToday);
    await appendAuditEvent(trx, {
      subjectType: 'consent',
      subjectId: consentId,
      event: 'access.recorded',
      actor: request.actor,
      details: {
        accessId,
        resource: request.resource,
        accountId: request.accountId,
        customerPresent: request.customerPresent,
        bankDate,
        ...(limit !== null && { accessesToday, frequencyPerDay: limit }),
      },
    });
    return {
      outcome: 'allowed',
      accessId,
      consentId,
      accessedAt: now,
      bankDate,
      customerPresent: request.customerPresent,
      accessesToday,
      frequencyPerDay: limit,
      remaining,
    };
  });
}
