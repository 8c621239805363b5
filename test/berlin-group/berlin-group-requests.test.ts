import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BgError } from '../../src/berlin-group/bg-error.ts';
import { hasValidIbanCheckDigits, isCalendarDate } from '../../src/berlin-group/bg-fields.ts';
import { DEFAULT_CONSENT_POLICY, parseConsentRequest } from '../../src/berlin-group/bg-consent-request.ts';
import { parsePaymentRequest, paymentProductOf } from '../../src/berlin-group/bg-payment-request.ts';

const TODAY = '2026-12-07';
const DE = 'DE89370400440532013000';
const NL = 'NL91ABNA0417164300';

/** The refusal of `run`: its status and its messages as `CODE path: text`. */
function refusal(run: () => unknown): { status: number; messages: string[] } {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof BgError, String(error));
    return { status: error.status, messages: error.messages.map((m) => `${m.code} ${m.path ?? '-'}: ${m.text}`) };
  }
  assert.fail('accepted');
}

describe('IBANs, amounts and dates', () => {
  test('IBAN check digits (ISO 13616 mod 97)', () => {
    for (const valid of [DE, NL, 'GB82WEST12345698765432', 'FR1420041010050500013M02606', 'AT611904300234573201', 'BE68539007547034'])
      assert.ok(hasValidIbanCheckDigits(valid), valid);
    for (const invalid of [
      'DE89370400440532013001',
      'DE98370400440532013000',
      'NL91ABNA0417164301',
      'de89370400440532013000',
      'DE89 3704 0044 0532 0130 00',
      '',
    ])
      assert.ok(!hasValidIbanCheckDigits(invalid), invalid);
  });

  test('calendar dates', () => {
    for (const valid of ['2026-02-28', '2028-02-29', '9999-12-31']) assert.ok(isCalendarDate(valid), valid);
    for (const invalid of ['2026-02-29', '2026-02-30', '2026-13-01', '2026-00-10', '2026-04-31', '0000-01-01'])
      assert.ok(!isCalendarDate(invalid), invalid);
  });
});

const consent = (overrides: Record<string, unknown> = {}) => ({
  access: { accounts: [{ iban: DE }], balances: [{ iban: DE }], transactions: [{ iban: DE, currency: 'EUR' }] },
  recurringIndicator: true,
  validUntil: '2027-03-01',
  frequencyPerDay: 4,
  combinedServiceIndicator: false,
  ...overrides,
});
const consentRefusal = (body: unknown, policy = DEFAULT_CONSENT_POLICY) => refusal(() => parseConsentRequest(body, TODAY, policy));

const accessRefusal = (access: unknown) => consentRefusal(consent({ access })).messages;

describe('POST /v1/consents bodies', () => {
  test('a detailed consent is taken as asked', () => {
    const parsed = parseConsentRequest(consent(), TODAY);
    assert.deepEqual(parsed, {
      access: { accounts: [{ iban: DE }], balances: [{ iban: DE }], transactions: [{ iban: DE, currency: 'EUR' }] },
      recurringIndicator: true,
      requestedValidUntil: '2027-03-01',
      validUntil: '2027-03-01',
      frequencyPerDay: 4,
      combinedServiceIndicator: false,
    });
  });

  test('bank-offered (empty lists), availableAccounts, availableAccountsWithBalance and allPsd2 are taken', () => {
    for (const access of [
      { accounts: [] },
      { accounts: [], balances: [], transactions: [] },
      { availableAccounts: 'allAccounts' },
      { availableAccountsWithBalance: 'allAccounts' },
      { allPsd2: 'allAccounts' },
    ])
      assert.deepEqual(parseConsentRequest(consent({ access }), TODAY).access, access);
  });

  test('9999-12-31 and any date past the bank’s latest are adjusted to it; today is still valid', () => {
    assert.equal(parseConsentRequest(consent({ validUntil: '9999-12-31' }), TODAY).validUntil, '2027-06-05');
    assert.equal(parseConsentRequest(consent({ validUntil: '9999-12-31' }), TODAY).requestedValidUntil, '9999-12-31');
    assert.equal(parseConsentRequest(consent({ validUntil: '2028-01-01' }), TODAY).validUntil, '2027-06-05');
    assert.equal(parseConsentRequest(consent({ validUntil: TODAY }), TODAY).validUntil, TODAY);
  });

  test('a one-off consent has frequencyPerDay 1', () => {
    assert.equal(parseConsentRequest(consent({ recurringIndicator: false, frequencyPerDay: 1 }), TODAY).frequencyPerDay, 1);
    assert.deepEqual(consentRefusal(consent({ recurringIndicator: false, frequencyPerDay: 2 })), {
      status: 400,
      messages: ['FORMAT_ERROR frequencyPerDay: frequencyPerDay must be 1 for a one-off consent (recurringIndicator false)'],
    });
  });

  test('frequencyPerDay: an integer from 1 to the bank’s ceiling; no floats, strings or huge numbers', () => {
    for (const bad of [0, -1, 1.5, 0.1 + 0.2, 5, 1e21, '4', null, Number.MAX_SAFE_INTEGER + 2]) {
      const { status, messages } = consentRefusal(consent({ frequencyPerDay: bad }));
      assert.equal(status, 400);
      assert.ok(
        messages.every((message) => message.startsWith('FORMAT_ERROR frequencyPerDay: ')),
        `${bad}: ${messages.join()}`,
      );
    }
    assert.equal(
      parseConsentRequest(consent({ frequencyPerDay: 10 }), TODAY, { ...DEFAULT_CONSENT_POLICY, maxFrequencyPerDay: 10 }).frequencyPerDay,
      10,
    );
  });

  test('validUntil: a calendar date, not in the past', () => {
    for (const bad of ['2026-02-30', '2027-13-01', '2027-3-1', '2027-03-01T00:00:00Z', 20270301, '2026-12-06'])
      assert.equal(consentRefusal(consent({ validUntil: bad })).messages[0]!.split(':')[0], 'FORMAT_ERROR validUntil', String(bad));
  });

  test('every required field, by name', () => {
    assert.deepEqual(consentRefusal({}).messages, [
      'FORMAT_ERROR access: access is required',
      'FORMAT_ERROR recurringIndicator: recurringIndicator is required',
      'FORMAT_ERROR validUntil: validUntil is required',
      'FORMAT_ERROR frequencyPerDay: frequencyPerDay is required',
      'FORMAT_ERROR combinedServiceIndicator: combinedServiceIndicator is required',
    ]);
    for (const body of [null, [], 'consent', 42]) assert.equal(consentRefusal(body).status, 400);
  });

  test('unknown and ill-typed fields are FORMAT_ERRORs with their path', () => {
    assert.deepEqual(consentRefusal(consent({ extra: 1 })).messages, ['FORMAT_ERROR extra: extra is not a field of this request']);
    assert.deepEqual(consentRefusal(consent({ recurringIndicator: 'true' })).messages, [
      'FORMAT_ERROR recurringIndicator: recurringIndicator must be true or false',
    ]);
    assert.deepEqual(consentRefusal(consent({ access: { accounts: [{ iban: DE, bban: '370400440532013000' }] } })).messages, [
      'FORMAT_ERROR access.accounts[0].bban: bban is not a field of this request',
    ]);
    assert.deepEqual(consentRefusal(consent({ access: { accounts: [{ iban: 'DE89370400440532013001' }] } })).messages, [
      'FORMAT_ERROR access.accounts[0].iban: iban check digits are wrong',
    ]);
    assert.deepEqual(consentRefusal(consent({ access: { accounts: [{ iban: DE, currency: 'EURO' }] } })).messages, [
      'FORMAT_ERROR access.accounts[0].currency: currency must be an ISO 4217 code',
    ]);
    assert.deepEqual(consentRefusal(consent({ access: { accounts: [{ iban: 'DE8937040044053201300' }] } })).messages, [
      'FORMAT_ERROR access.accounts[0].iban: iban has the wrong length for its country',
    ]);
  });

  test('hostile values: NUL bytes, prototype keys, huge lists', () => {
    assert.equal(consentRefusal(consent({ access: { accounts: [{ iban: `${DE}\u0000` }] } })).status, 400);
    assert.deepEqual(
      consentRefusal(
        JSON.parse(
          `{"access":{"accounts":[]},"__proto__":{"x":1},"recurringIndicator":true,"validUntil":"2027-01-01","frequencyPerDay":1,"combinedServiceIndicator":false}`,
        ),
      ).messages,
      ['FORMAT_ERROR __proto__: __proto__ is not a field of this request'],
    );
    const many = Array.from({ length: 101 }, () => ({ iban: DE }));
    assert.equal(consentRefusal(consent({ access: { accounts: many } })).messages[0]!.split(':')[0], 'FORMAT_ERROR access.accounts');
  });

  test('the access rules of the guidelines', () => {
    assert.deepEqual(accessRefusal({}), [
      'FORMAT_ERROR access: access must name one of accounts, balances, transactions, availableAccounts, availableAccountsWithBalance, allPsd2',
    ]);
    assert.deepEqual(accessRefusal({ accounts: [], balances: [{ iban: DE }] }), [
      'FORMAT_ERROR access: an empty accounts asks for the accounts the customer picks: balances must then be empty too',
    ]);
    assert.deepEqual(accessRefusal({ allPsd2: 'allAccounts', accounts: [{ iban: DE }] }), [
      'FORMAT_ERROR access: access cannot name allPsd2 together with accounts',
    ]);
    assert.deepEqual(accessRefusal({ allPsd2: 'allAccounts', availableAccounts: 'allAccounts' }), [
      'FORMAT_ERROR access: access may name only one of availableAccounts, allPsd2',
    ]);
    assert.deepEqual(accessRefusal({ accounts: [{ iban: DE }, { iban: NL }, { iban: DE }] }), [
      `FORMAT_ERROR access.accounts[2]: ${DE} is listed twice`,
    ]);
    assert.deepEqual(accessRefusal({ availableAccounts: 'someAccounts' }), [
      'FORMAT_ERROR access.availableAccounts: must be "allAccounts"',
    ]);
  });

  test('what the bank does not offer: PARAMETER_NOT_SUPPORTED; sessions where it offers none: SESSIONS_NOT_SUPPORTED', () => {
    assert.deepEqual(consentRefusal(consent({ access: { availableAccounts: 'allAccountsWithOwnerName' } })), {
      status: 400,
      messages: ['PARAMETER_NOT_SUPPORTED access.availableAccounts: allAccountsWithOwnerName is not supported'],
    });
    assert.deepEqual(consentRefusal(consent({ access: { accounts: [], restrictedTo: ['CACC'] } })).messages, [
      'PARAMETER_NOT_SUPPORTED access.restrictedTo: restrictedTo is not supported by this bank',
    ]);
    assert.deepEqual(
      consentRefusal(consent({ combinedServiceIndicator: true }), { ...DEFAULT_CONSENT_POLICY, combinedServiceSupported: false }).messages,
      ['SESSIONS_NOT_SUPPORTED combinedServiceIndicator: this bank does not support combined AIS and PIS sessions'],
    );
    assert.equal(parseConsentRequest(consent({ combinedServiceIndicator: true }), TODAY).combinedServiceIndicator, true);
  });
});

const payment = (overrides: Record<string, unknown> = {}) => ({
  endToEndIdentification: 'E2E-1',
  debtorAccount: { iban: DE },
  instructedAmount: { currency: 'EUR', amount: '123.45' },
  creditorAccount: { iban: NL },
  creditorName: 'Merchant GmbH',
  creditorAgent: 'ABNANL2A',
  remittanceInformationUnstructured: 'Invoice 42',
  ...overrides,
});
const paymentRefusal = (body: unknown, product: 'sepa-credit-transfers' | 'instant-sepa-credit-transfers' = 'sepa-credit-transfers') =>
  refusal(() => parsePaymentRequest(product, body, TODAY));

describe('POST /v1/payments/{payment-product} bodies', () => {
  test('the two SEPA products; any other is PRODUCT_UNKNOWN 404', () => {
    assert.equal(paymentProductOf('sepa-credit-transfers'), 'sepa-credit-transfers');
    assert.equal(paymentProductOf('instant-sepa-credit-transfers'), 'instant-sepa-credit-transfers');
    for (const other of [
      'target-2-payments',
      'cross-border-credit-transfers',
      'pain.001-sepa-credit-transfers',
      'toString',
      '__proto__',
      '',
    ])
      assert.deepEqual(refusal(() => paymentProductOf(other)).status, 404, other);
    assert.match(refusal(() => paymentProductOf('x')).messages[0]!, /^PRODUCT_UNKNOWN payment-product: /);
  });

  test('a payment is taken with its amount as the exact string sent', () => {
    const parsed = parsePaymentRequest(
      'sepa-credit-transfers',
      payment({ instructedAmount: { currency: 'EUR', amount: '999999999.99' } }),
      TODAY,
    );
    assert.equal(parsed.instructedAmount.amount, '999999999.99');
    assert.deepEqual(
      parsePaymentRequest('sepa-credit-transfers', payment({ instructedAmount: { currency: 'EUR', amount: '0.1' } }), TODAY)
        .instructedAmount,
      {
        currency: 'EUR',
        amount: '0.1',
      },
    );
    const minimal = {
      debtorAccount: { iban: DE },
      instructedAmount: { currency: 'EUR', amount: '1' },
      creditorAccount: { iban: NL },
      creditorName: 'A',
    };
    assert.deepEqual(parsePaymentRequest('instant-sepa-credit-transfers', minimal, TODAY), minimal);
  });

  test('amounts: decimal strings, at most two fraction digits, more than zero, at most 999999999.99', () => {
    for (const bad of [
      123.45,
      0.1 + 0.2,
      '0.30000000000000004',
      '0',
      '0.00',
      '-1.00',
      '1.234',
      '1e3',
      '1,00',
      ' 1.00',
      '01.00',
      '1000000000.00',
      '+1',
      'NaN',
      '',
      '1.',
    ]) {
      const { status, messages } = paymentRefusal(payment({ instructedAmount: { currency: 'EUR', amount: bad } }));
      assert.equal(status, 400, String(bad));
      assert.ok(
        messages.every((message) => message.startsWith('FORMAT_ERROR instructedAmount.amount: ')),
        `${bad}: ${messages.join()}`,
      );
    }
  });

  test('EUR only; IBANs checked; names and texts bounded', () => {
    assert.deepEqual(paymentRefusal(payment({ instructedAmount: { currency: 'USD', amount: '1.00' } })).messages, [
      'FORMAT_ERROR instructedAmount.currency: currency must be EUR for a SEPA credit transfer',
    ]);
    assert.deepEqual(paymentRefusal(payment({ creditorAccount: { iban: 'NL91ABNA0417164301' } })).messages, [
      'FORMAT_ERROR creditorAccount.iban: iban check digits are wrong',
    ]);
    assert.deepEqual(paymentRefusal(payment({ creditorName: 'x'.repeat(71) })).messages, [
      'FORMAT_ERROR creditorName: creditorName must be at most 70 characters',
    ]);
    assert.deepEqual(paymentRefusal(payment({ remittanceInformationUnstructured: 'x'.repeat(141) })).messages, [
      'FORMAT_ERROR remittanceInformationUnstructured: remittanceInformationUnstructured must be at most 140 characters',
    ]);
    assert.deepEqual(paymentRefusal(payment({ creditorName: 'Merchant\u0000' })).messages, [
      'FORMAT_ERROR creditorName: creditorName must not contain control characters',
    ]);
    assert.deepEqual(paymentRefusal(payment({ creditorAgent: 'abnanl2a' })).messages, [
      'FORMAT_ERROR creditorAgent: creditorAgent must be a BIC',
    ]);
    assert.deepEqual(paymentRefusal(payment({ ultimateCreditor: 'x' })).messages, [
      'FORMAT_ERROR ultimateCreditor: ultimateCreditor is not a field of this request',
    ]);
    assert.deepEqual(paymentRefusal(payment({ creditorName: undefined })).messages, [
      'FORMAT_ERROR creditorName: creditorName is required',
    ]);
  });

  test('requestedExecutionDate: a date, not past; an instant payment only today (EXECUTION_DATE_INVALID)', () => {
    assert.equal(
      parsePaymentRequest('sepa-credit-transfers', payment({ requestedExecutionDate: '2026-12-24' }), TODAY).requestedExecutionDate,
      '2026-12-24',
    );
    assert.deepEqual(paymentRefusal(payment({ requestedExecutionDate: '2026-12-06' })), {
      status: 400,
      messages: ['EXECUTION_DATE_INVALID requestedExecutionDate: requestedExecutionDate must not be before today (2026-12-07)'],
    });
    assert.equal(
      paymentRefusal(payment({ requestedExecutionDate: '2026-12-08' }), 'instant-sepa-credit-transfers').messages[0]!.split(' ')[0],
      'EXECUTION_DATE_INVALID',
    );
    assert.equal(
      paymentRefusal(payment({ requestedExecutionDate: '2026-02-30' })).messages[0]!.split(':')[0],
      'FORMAT_ERROR requestedExecutionDate',
    );
  });
});
