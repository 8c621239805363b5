import type { Transaction } from 'kysely';
import { appendAuditEvent } from '../../audit/audit-trail.ts';
import type { Db } from '../../db/connect.ts';
import type { ConsentRow, Database } from '../../db/schema.ts';
import { type Consent, effectiveStatus, toConsent } from '../consent.ts';
import { ConsentNotFound, IdempotencyConflict } from '../consent-errors.ts';
import { lockConsent } from '../consent-repository.ts';
import type { Actor } from '../consent-service.ts';
import type { ObErrorCode } from '../../protocol/ob-error-codes.ts';
import { fromMinorUnits, toMinorUnits } from './money.ts';
import { periodAt } from './periods.ts';
import { databaseNow, findPaymentByKey, insertPayment, sumsAccepted } from './vrp-payment-repository.ts';
import { allowsInteraction, type PeriodicLimit, type PsuInteractionType, purposeOf, validFrom, type VrpTerms } from './vrp-terms.ts';
import { sameAccount } from '../consent.ts';
import { accountReferenceOf } from '../../customers/account-directory.ts';
import type { AccountScheme } from '../../db/schema.ts';

/**
 * Payments under a domestic VRP consent, decided one at a time per consent: the consent row is locked,
 * so concurrent requests queue and each sees every payment accepted before it. A payment is accepted
 * only while the consent is Authorised and inside its validity, from an account that is not the one
 * paid into, in an interaction type the consent allows, within the individual limit and within every
 * periodic limit in its own alignment; sweeping and commercial mandates are decided alike. Each
 * decision, acceptance or refusal, is stored with its answer and audited in the same transaction; a
 * repeated idempotency key gets that answer again and counts once.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface VrpPaymentRequest {
  consentId: string;
  idempotencyKey: string;
  /** Decimal string, at most two fraction digits, validated at the edge. */
  amount: string;
  currency: string;
  /** Whether the customer is present (UK OB `PSUInteractionType`); a payment that does not say is OffSession. */
  interaction?: PsuInteractionType;
  actor: Actor;
}

/** One periodic limit in the period that contains a given instant. */
export interface PeriodUsage {
  PeriodType: PeriodicLimit['PeriodType'];
  PeriodAlignment: PeriodicLimit['PeriodAlignment'];
  Currency: string;
  Limit: string;
  PeriodStartDateTime: string;
  PeriodEndDateTime: string;
  Paid: string;
  Remaining: string;
}

export interface VrpRefusal {
  ErrorCode: Extract<ObErrorCode, 'UK.OBIE.Resource.InvalidConsentStatus' | 'UK.OBIE.Rules.FailsControlParameters'>;
  /** Which rule refused it, located in the consent (e.g. `ControlParameters.PeriodicLimits[0]`). */
  Path: string;
  Message: string;
}

export type VrpPaymentAnswer =
  | {
      outcome: 'accepted';
      PaymentId: string;
      ConsentId: string;
      CreationDateTime: string;
      InstructedAmount: { Amount: string; Currency: string };
      Periods: PeriodUsage[];
    }
  | {
      outcome: 'refused';
      PaymentId: string;
      ConsentId: string;
      CreationDateTime: string;
      InstructedAmount: { Amount: string; Currency: string };
      Refusal: VrpRefusal;
    };

export interface VrpPaymentDecision {
  answer: VrpPaymentAnswer;
  /** True when the idempotency key was seen before and this is the first answer again. */
  replayed: boolean;
}

const money = (minor: bigint, currency: string) => `${fromMinorUnits(minor)} ${currency}`;

/** How much of each periodic limit is used in the period containing `now`. */
export async function periodUsage(
  db: Db | Transaction<Database>,
  consent: Pick<Consent, 'id' | 'createdAt'> & { vrp: VrpTerms },
  now: Date,
): Promise<PeriodUsage[]> {
  const start = validFrom(consent.vrp, consent.createdAt);
  const limits = consent.vrp.controlParameters.PeriodicLimits;
  const periods = limits.map((limit) => periodAt(limit, start, now));
  const paidInPeriods = await sumsAccepted(db, consent.id, periods);
  return limits.map((limit, i) => {
    const period = periods[i]!;
    const paid = toMinorUnits(paidInPeriods[i]!);
    const ceiling = toMinorUnits(limit.Amount);
    return {
      PeriodType: limit.PeriodType,
      PeriodAlignment: limit.PeriodAlignment,
      Currency: limit.Currency,
      Limit: limit.Amount,
      PeriodStartDateTime: period.start.toISOString(),
      PeriodEndDateTime: period.end.toISOString(),
      Paid: fromMinorUnits(paid),
      Remaining: fromMinorUnits(ceiling > paid ? ceiling - paid : 0n),
    };
  });
}

/** The creditor, still in UK OB's shape in the terms, named as the model names accounts (as the directory's are). */
const creditorOf = (terms: VrpTerms) => {
  const { SchemeName, Identification } = terms.initiation.CreditorAccount;
  return accountReferenceOf({ schemeName: SchemeName as AccountScheme, identification: Identification });
};

/** The first rule the payment breaks, or undefined when it may be made. */
function refusalOf(
  row: ConsentRow,
  terms: VrpTerms,
  usage: readonly PeriodUsage[],
  request: { amount: bigint; currency: string; interaction: PsuInteractionType },
  now: Date,
): VrpRefusal | undefined {
  const { amount, currency } = request;
  const status = effectiveStatus(row, now);
  if (status !== 'Authorised')
    return { ErrorCode: 'UK.OBIE.Resource.InvalidConsentStatus', Path: 'Status', Message: `the consent is ${status}` };
  const parameters = terms.controlParameters;
  const from = validFrom(terms, row.created_at);
  if (now < from) {
    return {
      ErrorCode: 'UK.OBIE.Rules.FailsControlParameters',
      Path: 'ControlParameters.ValidFromDateTime',
      Message: `payments may start at ${from.toISOString()}`,
    };
  }
  // The last line behind the pages and authorisation (account-choices.ts): the account chosen to pay
  // from is never the one paid into, whatever changed since (a consent authorised before the check).
  if (row.paying_account && sameAccount(row.paying_account, creditorOf(terms))) {
    return {
      ErrorCode: 'UK.OBIE.Rules.FailsControlParameters',
      Path: 'Initiation.CreditorAccount',
      Message:
        purposeOf(terms) === 'sweeping'
          ? 'the account paid from is the account swept into: sweeping moves money between two of the customer’s accounts'
          : 'the account paid from is the payee’s account',
    };
  }
  if (!allowsInteraction(terms, request.interaction)) {
    return {
      ErrorCode: 'UK.OBIE.Rules.FailsControlParameters',
      Path: 'ControlParameters.PSUInteractionTypes',
      Message: `the consent does not allow ${request.interaction} payments`,
    };
  }
  const maximum = parameters.MaximumIndividualAmount;
  if (currency !== maximum.Currency) {
    return {
      ErrorCode: 'UK.OBIE.Rules.FailsControlParameters',
      Path: 'ControlParameters.MaximumIndividualAmount.Currency',
      Message: `the consent allows payments in ${maximum.Currency} only`,
    };
  }
  if (amount > toMinorUnits(maximum.Amount)) {
    return {
      ErrorCode: 'UK.OBIE.Rules.FailsControlParameters',
      Path: 'ControlParameters.MaximumIndividualAmount',
      Message: `${money(amount, currency)} exceeds the maximum individual amount of ${money(toMinorUnits(maximum.Amount), currency)}`,
    };
  }
  for (const [index, used] of usage.entries()) {
    if (amount > toMinorUnits(used.Remaining)) {
      return {
        ErrorCode: 'UK.OBIE.Rules.FailsControlParameters',
        Path: `ControlParameters.PeriodicLimits[${index}]`,
        Message:
          `${money(amount, currency)} exceeds what remains of the ${used.PeriodType} limit (${used.PeriodAlignment} alignment) of ${used.Limit} ${currency}: ` +
          `${used.Paid} ${currency} paid since ${used.PeriodStartDateTime}, ${used.Remaining} ${currency} left until ${used.PeriodEndDateTime}`,
      };
    }
  }
  return undefined;
}

/** The usage after an accepted payment: the payment is in every current period. */
function afterPayment(usage: readonly PeriodUsage[], amount: bigint): PeriodUsage[] {
  return usage.map((used) => ({
    ...used,
    Paid: fromMinorUnits(toMinorUnits(used.Paid) + amount),
    Remaining: fromMinorUnits(toMinorUnits(used.Remaining) - amount),
  }));
}

/**
 * Decides one payment under a VRP consent (see the module comment). Throws ConsentNotFound for an
 * unknown id or a consent of another type, IdempotencyConflict for a key reused with another request.
 */
export async function decideVrpPayment(db: Db, request: VrpPaymentRequest): Promise<VrpPaymentDecision> {
  if (!UUID.test(request.consentId)) throw new ConsentNotFound();
  return db.transaction().execute(async (trx) => {
    const row = await lockConsent(trx, request.consentId);
    if (!row || row.type !== 'domestic_vrp' || row.vrp === null) throw new ConsentNotFound();
    const amount = toMinorUnits(request.amount);
    // The payment itself, so "2.5" and "2.50" are one request and another amount is another.
    const asked = `${fromMinorUnits(amount)} ${request.currency}${request.interaction ? ` ${request.interaction}` : ''}`;
    const earlier = await findPaymentByKey(trx, row.id, request.idempotencyKey);
    if (earlier) {
      if (earlier.request !== asked) throw new IdempotencyConflict();
      return { answer: earlier.answer as VrpPaymentAnswer, replayed: true };
    }

    // Read after the lock: decisions on one consent are ordered, and so are their times.
    const now = await databaseNow(trx);
    const consent = toConsent(row, now);
    const terms = consent.vrp!;
    const usage = await periodUsage(trx, { id: consent.id, createdAt: consent.createdAt, vrp: terms }, now);
    const interaction = request.interaction ?? 'OffSession';
    const refusal = refusalOf(row, terms, usage, { amount, currency: request.currency, interaction }, now);
    const outcome = refusal ? 'refused' : 'accepted';
    const paymentId = crypto.randomUUID();
    const common = {
      PaymentId: paymentId,
      ConsentId: row.id,
      CreationDateTime: now.toISOString(),
      InstructedAmount: { Amount: fromMinorUnits(amount), Currency: request.currency },
    };
    const answer: VrpPaymentAnswer = refusal
      ? { outcome: 'refused', ...common, Refusal: refusal }
      : { outcome: 'accepted', ...common, Periods: afterPayment(usage, amount) };

    await insertPayment(trx, {
      id: paymentId,
      consent_id: row.id,
      idempotency_key: request.idempotencyKey,
      request: asked,
      amount: fromMinorUnits(amount),
      currency: request.currency,
      outcome,
      answer: JSON.stringify(answer),
      resource_server: request.actor.id ?? '',
      created_at: now,
    });
    const decided =
      answer.outcome === 'refused'
        ? { errorCode: answer.Refusal.ErrorCode, rule: answer.Refusal.Path, reason: answer.Refusal.Message }
        : {
            remaining: answer.Periods.map((used) => ({ period: `${used.PeriodType}/${used.PeriodAlignment}`, remaining: used.Remaining })),
          };
    await appendAuditEvent(trx, {
      subjectType: 'consent',
      subjectId: row.id,
      event: `vrp.payment.${outcome}`,
      actor: request.actor,
      details: {
        paymentId,
        idempotencyKey: request.idempotencyKey,
        amount: fromMinorUnits(amount),
        currency: request.currency,
        ...decided,
      },
    });
    return { answer, replayed: false };
  });
}

/** The payment usage of a VRP consent now, for introspection and the dashboard; undefined for other consents. */
export async function vrpUsageOf(db: Db, consent: Consent): Promise<PeriodUsage[] | undefined> {
  if (consent.type !== 'domestic_vrp' || !consent.vrp) return undefined;
  // The period the payments are decided in (the database's clock), so that near a boundary the usage
  // shown never belongs to another period than the next payment's, whatever this host's clock says.
  return periodUsage(db, { id: consent.id, createdAt: consent.createdAt, vrp: consent.vrp }, await databaseNow(db));
}
