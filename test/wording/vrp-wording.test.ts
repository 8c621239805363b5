import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../../src/config.ts';
import { type VrpTerms, vrpFacts } from '../../src/consents/vrp/vrp-terms.ts';
import { vrpWording } from '../../src/wording/vrp.ts';
import { wordingFor } from '../../src/wording/wording.ts';

const branding = loadConfig({}).branding;
const english = wordingFor('en', branding);
const german = wordingFor('de', branding);
/** Intl separates a figure from its symbol with a no-break space; the tests spell it as a space. */
const plain = (text: string) => text.replace(/[\u00a0\u202f]/g, ' ');

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

describe('VRP limits in plain words (src/wording/vrp.ts)', () => {
  test("the issue's own sentence, and the same facts in German", () => {
    const facts = vrpFacts(terms(), new Date('2026-11-15T10:00:00Z'));
    assert.equal(
      vrpWording(english, facts).summary,
      'up to £250 a payment, at most £1,000 a calendar month, until 30 June 2027, to ACME Savings',
    );
    assert.equal(
      plain(vrpWording(german, facts).summary),
      'bis 250 £ je Zahlung, höchstens 1.000 £ pro Kalendermonat, bis 30. Juni 2027, an ACME Savings',
    );
  });

  test('consent-aligned periods say where they are counted from; no end date says so', () => {
    const wording = vrpWording(
      english,
      vrpFacts(
        terms({
          ValidToDateTime: undefined,
          PeriodicLimits: [{ Amount: '50.50', Currency: 'GBP', PeriodType: 'Week', PeriodAlignment: 'Consent' }],
        }),
        new Date('2026-06-30T23:30:00Z'),
      ),
    );
    assert.deepEqual(wording.limits, ['at most £50.50 every 7 days counted from 1 July 2026']);
    assert.equal(wording.validity, 'until you cancel it');
    assert.equal(wording.sweeping, true);
  });

  test('amounts in a sentence keep their pence and group thousands, from the decimal string', () => {
    assert.equal(english.moneyInWords('1234567.05', 'GBP'), '£1,234,567.05');
    assert.equal(english.moneyInWords('10.00', 'EUR'), '€10');
    assert.equal(plain(english.moneyInWords('10.00', 'CHF')), 'CHF 10');
    assert.equal(plain(german.moneyInWords('1234567.05', 'GBP')), '1.234.567,05 £');
  });
});
