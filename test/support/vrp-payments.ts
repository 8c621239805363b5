import assert from 'node:assert/strict';
import { authoriseConsent } from '../../src/consents/consent-service.ts';
import { postgresAccountDirectory } from '../../src/customers/account-directory.ts';
import type { TestAssent } from './assent.ts';
import { type ApiResponse, DOMESTIC_VRP } from './consent-api.ts';
import { fixture, useConsentApi, useResourceServer, useTpp } from './fixture.ts';
import { customerWithAccounts } from './granted-consents.ts';

/** One entry of a UK OB error envelope (v3.1's or v4.0's). */
export interface ObErrorEntry {
  ErrorCode: string;
  Message: string;
  Path?: string;
}

/** The first error of a 400 answer (the bank API's refusal of a payment, or the consent API's of a request). */
export function refusal(response: ApiResponse): ObErrorEntry {
  assert.equal(response.status, 400, JSON.stringify(response.body));
  return (response.body as { Errors: ObErrorEntry[] }).Errors[0]!;
}

/**
 * What a test of payments under VRP consents sets up (test/bank/, test/uk-ob-v4/): a PISP on the consent
 * API, the bank's payment system as a resource server, and a customer with a current and a savings
 * account. Consents are authorised through the consent service with the current account as the one paid
 * from (the pages are the journeys' business), and payments are asked for through the bank API.
 */
export function useVrpPayments(assent: TestAssent) {
  const pisp = useConsentApi(assent, useTpp(assent));
  const bank = useResourceServer(assent);
  const people = fixture(() => customerWithAccounts(assent));

  /** A VRP consent created from `body` at `path` (v3.1's unless said), awaiting authorisation. */
  async function created(body: unknown, path = DOMESTIC_VRP): Promise<string> {
    const response = await pisp.call('POST', path, { body, headers: { 'x-idempotency-key': crypto.randomUUID() } });
    assert.equal(response.status, 201, JSON.stringify(response.body));
    return (response.body as { Data: { ConsentId: string } }).Data.ConsentId;
  }

  /** A VRP consent created from `body` at `path` and authorised by the customer, paying from the current account. */
  async function authorised(body: unknown, path = DOMESTIC_VRP): Promise<string> {
    const consentId = await created(body, path);
    await authoriseConsent(assent.db, postgresAccountDirectory(assent.db), {
      consentId,
      clientId: pisp.tpp.clientId,
      customerId: people.customer.id,
      accountIds: [people.current.id],
      grantId: `grant-${crypto.randomUUID()}`,
    });
    return consentId;
  }

  /** The bank's payment system asks for one payment (`POST /bank/vrp-consents/{id}/payments`). */
  const pay = (
    consentId: string,
    amount: string,
    options: { key?: string; currency?: string; interaction?: 'InSession' | 'OffSession' } = {},
  ) =>
    bank.call('POST', `/bank/vrp-consents/${consentId}/payments`, {
      body: {
        Data: {
          InstructedAmount: { Amount: amount, Currency: options.currency ?? 'GBP' },
          ...(options.interaction && { PSUInteractionType: options.interaction }),
        },
      },
      headers: { 'x-idempotency-key': options.key ?? crypto.randomUUID() },
    });

  /** Every decision taken under a consent, accepted or refused. */
  const ledger = (consentId: string) => assent.db.selectFrom('vrp_payment').selectAll().where('consent_id', '=', consentId).execute();

  return { pisp, bank, people, created, authorised, pay, ledger };
}
