import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { moneyInWords, vrpWording } from '../src/consents/vrp/vrp-wording.ts';
import type { VrpTerms } from '../src/consents/vrp/vrp-terms.ts';

const terms = (overrides: Partial<VrpTerms['controlParameters']> = {}): VrpTerms => ({
  controlParameters: {
    PSUAuthenticationMethods: ['UK.OBIE.SCA'],
    VRPType: ['UK.OBIE.VRPType.Sweeping'],
    ValidToDateTime: '2027-06-30T22:59:59.000Z',
    MaximumIndividualAmount: { Amount: '250.00', Currency: 'GBP' },
    PeriodicLimits: [{ Amount: '1000.00', Currency: 'GBP', PeriodType: 'Month', PeriodAlignment: 'Calendar' }],
    ...overrides,
  },
  initiation: { CreditorAccount: { SchemeName: 'UK.OBIE.SortCodeAccountNumber', Identification: '08080021325699', Name: 'ACME Savings' } },
});

describe('VRP limits in plain words', () => {
  test('the issue\'s own sentence', () => {
    assert.equal(vrpWording(terms(), new Date('2026-11-15T10:00:00Z')).summary, 'up to £250 a payment, at most £1,000 a calendar month, until 30 June 2027, to ACME Savings');
  });

  test('consent-aligned periods say where they are counted from; no end date says so', () => {
    const wording = vrpWording(
      terms({ ValidToDateTime: undefined, PeriodicLimits: [{ Amount: '50.50', Currency: 'GBP', PeriodType: 'Week', PeriodAlignment: 'Consent' }] }),
      new Date('2026-06-30T23:30:00Z'),
    );
    assert.deepEqual(wording.limits, ['at most £50.50 every 7 days counted from 1 July 2026']);
    assert.equal(wording.validity, 'until you cancel it');
    assert.equal(wording.sweeping, true);
  });

  test('amounts keep their pence and group thousands, from the decimal string', () => {
    assert.equal(moneyInWords('1234567.05', 'GBP'), '£1,234,567.05');
    assert.equal(moneyInWords('10.00', 'EUR'), '€10');
    assert.equal(moneyInWords('10.00', 'CHF'), '10 CHF');
  });
});
