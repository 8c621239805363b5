import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  assertAuthorisable,
  authorisationListBody,
  authorisationStartedBody,
  scaStatusBody,
} from '../../src/berlin-group/bg-authorisations.ts';
import { addDays, bankCalendar } from '../../src/berlin-group/bg-bank-time.ts';
import {
  accessConsentDraftOf,
  bgAccessOf,
  consentCreatedBody,
  consentInformationBody,
  consentStatusBody,
  readsOf,
} from '../../src/berlin-group/bg-consent-mapping.ts';
import { type BgAccess, parseConsentRequest } from '../../src/berlin-group/bg-consent-request.ts';
import { BgError } from '../../src/berlin-group/bg-error.ts';
import { parseBgHeaders } from '../../src/berlin-group/bg-headers.ts';
import {
  type BgResource,
  chooseScaApproach,
  createdLinks,
  scaApproachHeader,
  scaOAuthHref,
  scaOAuthScope,
} from '../../src/berlin-group/bg-links.ts';
import type { AccessConsent, ConsentState, ConsentStatus, EndedBy, PaymentConsent } from '../../src/berlin-group/bg-model.ts';
import {
  cancellationRefused,
  paymentConsentDraftOf,
  paymentInformationBody,
  paymentInitiatedBody,
  paymentStatusBody,
} from '../../src/berlin-group/bg-payment-mapping.ts';
import { parsePaymentRequest } from '../../src/berlin-group/bg-payment-request.ts';
import { bgConsentStatusOf, bgScaStatusOf, bgTransactionStatusOf } from '../../src/berlin-group/bg-status.ts';

const DE = 'DE89370400440532013000';
const NL = 'NL91ABNA0417164300';
const REQUEST_ID = '99391c7e-ad88-49ec-a2ad-99ddcb1f7721';
const ISSUER = 'https://assent.example';
const headers = (extra: Record<string, string> = {}) => parseBgHeaders({ 'x-request-id': REQUEST_ID, ...extra });

/** A German bank's calendar (BANK_TIME_ZONE=Europe/Berlin). */
const BERLIN = bankCalendar('Europe/Berlin');

describe("the bank's calendar (Europe/Berlin)", () => {
  test('a bank date starts at midnight Berlin time, summer and winter', () => {
    assert.equal(BERLIN.startOf('2026-12-07').toISOString(), '2026-12-06T23:00:00.000Z');
    assert.equal(BERLIN.startOf('2026-07-01').toISOString(), '2026-06-30T22:00:00.000Z');
    // The days of the clock changes: 23 and 25 hours long.
    assert.equal(BERLIN.endOf('2026-03-29').getTime() - BERLIN.startOf('2026-03-29').getTime(), 23 * 3600_000);
    assert.equal(BERLIN.endOf('2026-10-25').getTime() - BERLIN.startOf('2026-10-25').getTime(), 25 * 3600_000);
  });

  test('the bank date of an instant, and the last date before an end', () => {
    assert.equal(BERLIN.dateOf(new Date('2026-12-06T23:30:00Z')), '2026-12-07');
    assert.equal(BERLIN.dateOf(new Date('2026-12-06T22:59:59Z')), '2026-12-06');
    assert.equal(BERLIN.lastDateBefore(BERLIN.endOf('2027-02-28')), '2027-02-28');
    assert.equal(addDays('2026-12-31', 1), '2027-01-01');
    assert.equal(addDays('2028-02-28', 1), '2028-02-29');
    assert.equal(addDays('9999-12-31', 1), '10000-01-01');
  });
});

const state = (overrides: Partial<ConsentState>): ConsentState => ({
  id: 'c1',
  standard: 'berlin_group',
  status: 'AwaitingAuthorisation',
  endedBy: null,
  statusUpdatedAt: new Date('2026-12-07T10:00:00Z'),
  authorisations: [{ id: 'a1', stage: 'started' }],
  ...overrides,
});

describe('consent status, transaction status, SCA status', () => {
  test('consentStatus of every neutral status', () => {
    const table: [ConsentStatus, EndedBy | null, string][] = [
      ['AwaitingAuthorisation', null, 'received'],
      ['Authorised', null, 'valid'],
      ['Rejected', null, 'rejected'],
      ['Revoked', 'customer', 'revokedByPsu'],
      ['Revoked', 'tpp', 'terminatedByTpp'],
      ['Revoked', 'bank', 'terminatedByAspsp'],
      ['Revoked', null, 'terminatedByAspsp'],
      ['Expired', null, 'expired'],
      ['Consumed', null, 'expired'],
    ];
    for (const [status, endedBy, expected] of table) assert.equal(bgConsentStatusOf(status, endedBy), expected, `${status} ${endedBy}`);
  });

  test('transactionStatus of every neutral status', () => {
    const table: [ConsentStatus, EndedBy | null, string][] = [
      ['AwaitingAuthorisation', null, 'RCVD'],
      ['Authorised', null, 'ACTC'],
      ['Consumed', null, 'ACSP'],
      ['Rejected', null, 'RJCT'],
      ['Rejected', 'customer', 'RJCT'],
      ['Rejected', 'tpp', 'CANC'],
      ['Expired', null, 'RJCT'],
      ['Revoked', 'customer', 'CANC'],
      ['Revoked', 'tpp', 'CANC'],
      ['Revoked', 'bank', 'RJCT'],
    ];
    for (const [status, endedBy, expected] of table) assert.equal(bgTransactionStatusOf(status, endedBy), expected, `${status} ${endedBy}`);
  });

  test('scaStatus: progress while awaiting, finalised once authorised, failed otherwise', () => {
    const sca = (overrides: Partial<ConsentState>) => {
      const consent = state(overrides);
      return bgScaStatusOf(consent, consent.authorisations.at(-1)!);
    };
    assert.equal(sca({}), 'received');
    assert.equal(sca({ authorisations: [{ id: 'a1', stage: 'sca_started' }] }), 'started');
    assert.equal(sca({ authorisations: [{ id: 'a1', stage: 'customer_authenticated' }] }), 'psuAuthenticated');
    assert.equal(sca({ authorisations: [{ id: 'a1', stage: 'lapsed' }] }), 'failed', "the device's request expired undecided");
    assert.equal(sca({ status: 'Authorised' }), 'finalised');
    assert.equal(sca({ status: 'Consumed' }), 'finalised');
    assert.equal(sca({ status: 'Revoked', endedBy: 'customer' }), 'finalised', 'the SCA succeeded, whatever came after');
    assert.equal(sca({ status: 'Revoked', endedBy: 'tpp' }), 'finalised', 'only an authorised consent is revoked');
    assert.equal(sca({ status: 'Expired' }), 'finalised', 'only an authorised consent expires');
    assert.equal(sca({ status: 'Rejected' }), 'failed');
    assert.equal(sca({ status: 'Rejected', endedBy: 'tpp' }), 'failed', 'withdrawn by the TPP before the customer decided');
    const two = state({
      authorisations: [
        { id: 'a1', stage: 'customer_authenticated' },
        { id: 'a2', stage: 'started' },
      ],
    });
    assert.equal(bgScaStatusOf(two, two.authorisations[0]!), 'failed', 'a superseded authorisation');
    assert.equal(bgScaStatusOf(two, two.authorisations[1]!), 'received');
  });

  test('the authorisation sub-resources: list, status, unknown id, no authorisation once decided', () => {
    const consent = state({
      authorisations: [
        { id: 'a1', stage: 'started' },
        { id: 'a2', stage: 'customer_authenticated' },
      ],
    });
    assert.deepEqual(authorisationListBody(consent), { authorisationIds: ['a1', 'a2'] });
    assert.deepEqual(scaStatusBody(consent, 'a2'), { scaStatus: 'psuAuthenticated' });
    assert.throws(
      () => scaStatusBody(consent, 'a3'),
      (error: unknown) => error instanceof BgError && error.status === 404 && error.messages[0]!.code === 'RESOURCE_UNKNOWN',
    );
    assert.doesNotThrow(() => assertAuthorisable(consent));
    for (const status of ['Authorised', 'Rejected', 'Revoked', 'Expired', 'Consumed'] as const)
      assert.throws(
        () => assertAuthorisable({ status }),
        (error: unknown) => error instanceof BgError && error.status === 409 && error.messages[0]!.code === 'STATUS_INVALID',
      );
    const resource: BgResource = { service: 'AIS', consentId: 'c1' };
    assert.deepEqual(authorisationStartedBody(consent, resource, 'a2', 'REDIRECT', ISSUER), {
      scaStatus: 'psuAuthenticated',
      authorisationId: 'a2',
      _links: {
        scaOAuth: { href: 'https://assent.example/.well-known/oauth-authorization-server' },
        scaStatus: { href: '/v1/consents/c1/authorisations/a2' },
      },
    });
    const { _links: decoupledLinks } = authorisationStartedBody(consent, resource, 'a2', 'DECOUPLED', ISSUER);
    assert.deepEqual(decoupledLinks, { scaStatus: { href: '/v1/consents/c1/authorisations/a2' } });
  });
});

describe('the SCA approach and the links', () => {
  const decoupled = { decoupled: true };

  test('REDIRECT by default, and it needs TPP-Redirect-URI', () => {
    assert.equal(chooseScaApproach(headers({ 'tpp-redirect-uri': 'https://tpp.example/cb' }), decoupled), 'REDIRECT');
    assert.throws(
      () => chooseScaApproach(headers(), decoupled),
      (error: unknown) =>
        error instanceof BgError &&
        error.status === 400 &&
        error.messages[0]!.path === 'TPP-Redirect-URI' &&
        error.messages[0]!.code === 'FORMAT_ERROR',
    );
  });

  test('DECOUPLED when preferred (or a redirect declined), offered, and PSU-ID names the customer', () => {
    const psu = { 'psu-id': 'anna', 'tpp-redirect-uri': 'https://tpp.example/cb' };
    assert.equal(chooseScaApproach(headers({ ...psu, 'tpp-decoupled-preferred': 'true' }), decoupled), 'DECOUPLED');
    assert.equal(chooseScaApproach(headers({ ...psu, 'tpp-redirect-preferred': 'false' }), decoupled), 'DECOUPLED');
    assert.equal(
      chooseScaApproach(headers({ ...psu, 'tpp-decoupled-preferred': 'true', 'tpp-redirect-preferred': 'true' }), decoupled),
      'DECOUPLED',
    );
    assert.equal(chooseScaApproach(headers({ ...psu, 'tpp-decoupled-preferred': 'false' }), decoupled), 'REDIRECT');
    assert.equal(chooseScaApproach(headers({ ...psu, 'tpp-decoupled-preferred': 'true' }), { decoupled: false }), 'REDIRECT');
    assert.equal(
      chooseScaApproach(headers({ 'psu-id': 'anna', 'tpp-decoupled-preferred': 'true' }), decoupled),
      'DECOUPLED',
      'no redirect URI needed',
    );
    assert.throws(
      () => chooseScaApproach(headers({ 'tpp-decoupled-preferred': 'true' }), decoupled),
      (error: unknown) => error instanceof BgError && /decoupled needs PSU-ID/.test(error.messages[0]!.text),
    );
  });

  test('links of a created consent: implicit REDIRECT, implicit DECOUPLED, explicit', () => {
    const consent: BgResource = { service: 'AIS', consentId: 'c 1/x' };
    assert.deepEqual(createdLinks(consent, { explicit: false, approach: 'REDIRECT', authorisationId: 'a1' }, `${ISSUER}/`), {
      scaOAuth: { href: 'https://assent.example/.well-known/oauth-authorization-server' },
      scaStatus: { href: '/v1/consents/c%201%2Fx/authorisations/a1' },
      self: { href: '/v1/consents/c%201%2Fx' },
      status: { href: '/v1/consents/c%201%2Fx/status' },
    });
    assert.deepEqual(createdLinks(consent, { explicit: false, approach: 'DECOUPLED', authorisationId: 'a1' }, ISSUER), {
      scaStatus: { href: '/v1/consents/c%201%2Fx/authorisations/a1' },
      self: { href: '/v1/consents/c%201%2Fx' },
      status: { href: '/v1/consents/c%201%2Fx/status' },
    });
    assert.deepEqual(createdLinks(consent, { explicit: true }, ISSUER), {
      startAuthorisation: { href: '/v1/consents/c%201%2Fx/authorisations' },
      self: { href: '/v1/consents/c%201%2Fx' },
      status: { href: '/v1/consents/c%201%2Fx/status' },
    });
  });

  test('links of a payment; the OAuth scope and the approach header', () => {
    const payment: BgResource = { service: 'PIS', product: 'instant-sepa-credit-transfers', paymentId: 'p1' };
    assert.deepEqual(createdLinks(payment, { explicit: false, approach: 'REDIRECT', authorisationId: 'a1' }, ISSUER), {
      scaOAuth: { href: scaOAuthHref(ISSUER) },
      scaStatus: { href: '/v1/payments/instant-sepa-credit-transfers/p1/authorisations/a1' },
      self: { href: '/v1/payments/instant-sepa-credit-transfers/p1' },
      status: { href: '/v1/payments/instant-sepa-credit-transfers/p1/status' },
    });
    assert.equal(scaOAuthScope('AIS', 'c1'), 'AIS:c1');
    assert.equal(scaOAuthScope('PIS', 'p1'), 'PIS:p1');
    assert.deepEqual(scaApproachHeader('DECOUPLED'), { 'ASPSP-SCA-Approach': 'DECOUPLED' });
  });
});

const TODAY = '2026-12-07';
const consentBody = (access: unknown, overrides: Record<string, unknown> = {}) => ({
  access,
  recurringIndicator: true,
  validUntil: '2027-03-01',
  frequencyPerDay: 4,
  combinedServiceIndicator: false,
  ...overrides,
});

const stored = (overrides: Partial<AccessConsent & ConsentState> = {}): AccessConsent & ConsentState => {
  const { standard, ...draft } = accessConsentDraftOf(parseConsentRequest(consentBody({ accounts: [] }), TODAY), headers(), BERLIN);
  return {
    ...draft,
    id: 'c1',
    standard,
    status: 'AwaitingAuthorisation',
    endedBy: null,
    statusUpdatedAt: new Date('2026-12-07T22:30:00Z'),
    authorisations: [],
    ...overrides,
  };
};

describe('AIS consent mapping', () => {
  test('a detailed consent: every listed account read for its details, balances and transactions as listed', () => {
    assert.deepEqual(readsOf({ balances: [{ iban: DE }], transactions: [{ iban: NL, currency: 'EUR' }, { iban: DE }] }), [
      {
        scope: 'accounts.detail',
        accounts: [
          { scheme: 'iban', identification: DE },
          { scheme: 'iban', identification: NL, currency: 'EUR' },
        ],
      },
      { scope: 'balances', accounts: [{ scheme: 'iban', identification: DE }] },
      {
        scope: 'transactions.detail',
        accounts: [
          { scheme: 'iban', identification: NL, currency: 'EUR' },
          { scheme: 'iban', identification: DE },
        ],
      },
    ]);
  });

  test('the customer picks: empty lists, availableAccounts(WithBalance), allPsd2', () => {
    assert.deepEqual(readsOf({ accounts: [] }), [{ scope: 'accounts.detail', accounts: null }]);
    assert.deepEqual(readsOf({ accounts: [], transactions: [] }), [
      { scope: 'accounts.detail', accounts: null },
      { scope: 'transactions.detail', accounts: null },
    ]);
    assert.deepEqual(readsOf({ availableAccounts: 'allAccounts' }), [{ scope: 'accounts.basic', accounts: null }]);
    assert.deepEqual(readsOf({ availableAccountsWithBalance: 'allAccounts' }), [
      { scope: 'accounts.basic', accounts: null },
      { scope: 'balances', accounts: null },
    ]);
    assert.deepEqual(readsOf({ allPsd2: 'allAccounts' }), [
      { scope: 'accounts.detail', accounts: null },
      { scope: 'balances', accounts: null },
      { scope: 'transactions.detail', accounts: null },
    ]);
  });

  test('the access object back out of the reads', () => {
    for (const access of [
      { accounts: [{ iban: DE }], balances: [{ iban: DE }], transactions: [{ iban: DE }] },
      { accounts: [{ iban: DE, currency: 'EUR' }, { iban: NL }], transactions: [{ iban: DE, currency: 'EUR' }] },
      { accounts: [] },
      { accounts: [], balances: [], transactions: [] },
      { availableAccounts: 'allAccounts' },
      { availableAccountsWithBalance: 'allAccounts' },
    ] satisfies BgAccess[])
      assert.deepEqual(bgAccessOf(readsOf(access)), access);
    // Implied: balances of an account give its details. allPsd2 reads as the three lists the customer fills.
    assert.deepEqual(bgAccessOf(readsOf({ balances: [{ iban: DE }] })), { accounts: [{ iban: DE }], balances: [{ iban: DE }] });
    assert.deepEqual(bgAccessOf(readsOf({ allPsd2: 'allAccounts' })), { accounts: [], balances: [], transactions: [] });
    // Once the customer picked: the accounts picked; UK-style credit/debit reads as transactions.
    assert.deepEqual(
      bgAccessOf([
        { scope: 'accounts.detail', accounts: [{ scheme: 'iban', identification: DE }] },
        { scope: 'transactions.credits', accounts: [{ scheme: 'iban', identification: DE }] },
        { scope: 'transactions.debits', accounts: [{ scheme: 'iban', identification: DE }] },
      ]),
      { accounts: [{ iban: DE }], transactions: [{ iban: DE }] },
    );
    assert.deepEqual(bgAccessOf([{ scope: 'accounts.basic', accounts: [{ scheme: 'iban', identification: DE }] }]), {
      availableAccounts: 'allAccounts',
    });
  });

  test('the draft: validUntil ends with that bank date, the redirect URI of the header, standard berlin_group', () => {
    const request = parseConsentRequest(
      consentBody({ accounts: [{ iban: DE }] }, { validUntil: '9999-12-31', combinedServiceIndicator: true }),
      TODAY,
    );
    const draft = accessConsentDraftOf(request, headers({ 'tpp-redirect-uri': 'https://tpp.example/cb' }), BERLIN);
    assert.deepEqual(draft, {
      type: 'account_access',
      standard: 'berlin_group',
      reads: [{ scope: 'accounts.detail', accounts: [{ scheme: 'iban', identification: DE }] }],
      expiresAt: new Date('2027-06-05T22:00:00.000Z'),
      transactionFrom: null,
      transactionTo: null,
      recurring: true,
      frequencyPerDay: 4,
      combinedService: true,
      redirectUri: 'https://tpp.example/cb',
      payment: null,
      debtorAccount: null,
      risk: {},
      vrp: null,
    });
  });

  test('POST 201, GET and GET status bodies', () => {
    assert.deepEqual(consentCreatedBody(stored(), { self: { href: '/v1/consents/c1' } }), {
      consentStatus: 'received',
      consentId: 'c1',
      _links: { self: { href: '/v1/consents/c1' } },
    });
    assert.deepEqual(consentInformationBody(stored({ status: 'Revoked', endedBy: 'customer' }), BERLIN), {
      access: { accounts: [] },
      recurringIndicator: true,
      validUntil: '2027-03-01',
      frequencyPerDay: 4,
      lastActionDate: '2026-12-07',
      consentStatus: 'revokedByPsu',
    });
    assert.equal(
      consentInformationBody(stored({ statusUpdatedAt: new Date('2026-12-07T23:30:00Z') }), BERLIN).lastActionDate,
      '2026-12-08',
    );
    assert.deepEqual(consentStatusBody({ status: 'Revoked', endedBy: 'tpp' }), { consentStatus: 'terminatedByTpp' });
    const picked = stored({
      status: 'Authorised',
      reads: [{ scope: 'accounts.detail', accounts: [{ scheme: 'iban', identification: NL }] }],
    });
    assert.deepEqual(consentInformationBody(picked, BERLIN, { self: { href: '/v1/consents/c1' } }).access, { accounts: [{ iban: NL }] });
    const { _links: links } = consentInformationBody(picked, BERLIN, { self: { href: '/v1/consents/c1' } });
    assert.deepEqual(links, { self: { href: '/v1/consents/c1' } });
  });
});

describe('payment mapping', () => {
  const body = {
    endToEndIdentification: 'E2E-1',
    debtorAccount: { iban: DE, currency: 'EUR' },
    instructedAmount: { currency: 'EUR', amount: '0.30' },
    creditorAccount: { iban: NL },
    creditorName: 'Merchant GmbH',
    creditorAgent: 'ABNANL2A',
    remittanceInformationUnstructured: 'Invoice 42',
  };

  const payment = (overrides: Partial<PaymentConsent> = {}): PaymentConsent => ({
    ...paymentConsentDraftOf(
      'sepa-credit-transfers',
      parsePaymentRequest('sepa-credit-transfers', body, TODAY),
      headers({ 'tpp-redirect-uri': 'https://tpp.example/cb' }),
    ),
    id: 'p1',
    status: 'AwaitingAuthorisation',
    endedBy: null,
    ...overrides,
  });

  test('the draft: a domestic_payment consent of the model, made once, the amount the exact string, the SEPA scheme named', () => {
    const draft = paymentConsentDraftOf(
      'instant-sepa-credit-transfers',
      parsePaymentRequest('instant-sepa-credit-transfers', body, TODAY),
      headers(),
    );
    assert.deepEqual(draft, {
      type: 'domestic_payment',
      standard: 'berlin_group',
      reads: [],
      expiresAt: null,
      transactionFrom: null,
      transactionTo: null,
      recurring: false,
      frequencyPerDay: null,
      combinedService: false,
      redirectUri: null,
      payment: {
        scheme: 'sepa_instant_credit_transfer',
        amount: '0.30',
        currency: 'EUR',
        creditorAccount: { scheme: 'iban', identification: NL },
        creditorName: 'Merchant GmbH',
        reference: 'Invoice 42',
        instructionIdentification: null,
        endToEndIdentification: 'E2E-1',
        creditorAgent: 'ABNANL2A',
        requestedExecutionDate: null,
      },
      debtorAccount: { scheme: 'iban', identification: DE, currency: 'EUR' },
      risk: {},
      vrp: null,
    });
  });

  test('POST 201, GET and GET status bodies: the payment as initiated', () => {
    assert.deepEqual(paymentInitiatedBody(payment(), { self: { href: '/v1/payments/sepa-credit-transfers/p1' } }), {
      transactionStatus: 'RCVD',
      paymentId: 'p1',
      _links: { self: { href: '/v1/payments/sepa-credit-transfers/p1' } },
    });
    assert.deepEqual(paymentInformationBody(payment({ status: 'Consumed' })), { ...body, transactionStatus: 'ACSP' });
    assert.deepEqual(paymentStatusBody({ status: 'Revoked', endedBy: 'tpp' }), { transactionStatus: 'CANC' });
  });

  test('a payment no longer awaiting the customer is refused cancellation: CANCELLATION_INVALID 405', () => {
    for (const status of ['Authorised', 'Consumed', 'Rejected', 'Revoked', 'Expired'] as const) {
      const refusal = cancellationRefused({ status });
      assert.deepEqual([refusal.status, refusal.messages[0]!.code], [405, 'CANCELLATION_INVALID'], status);
    }
  });
});
