import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadConfig } from '../../src/config.ts';
import { type VrpTerms, vrpFacts } from '../../src/consents/vrp/vrp-terms.ts';
import { vrpWording } from '../../src/wording/vrp.ts';
import { wordingFor } from '../../src/wording/wording.ts';

const branding = loadConfig({}).branding;
const english = wordingFor('en', branding);
const german = wordingFor('de', branding);
const plain = (text: string) => text.replace(/[\u00a0\u202f]/g, ' ');

const commercial = (interaction?: VrpTerms['controlParameters']['PSUInteractionTypes']): VrpTerms => ({
  controlParameters: {
    PSUAuthenticationMethods: ['UK.OBIE.SCA'],
    VRPType: ['UK.OBIE.VRPType.Other'],
    ValidToDateTime: '2027-06-30T22:59:59.000Z',
    MaximumIndividualAmount: { Amount: '30.00', Currency: 'GBP' },
    PeriodicLimits: [{ Amount: '60.00', Currency: 'GBP', PeriodType: 'Month', PeriodAlignment: 'Calendar' }],
    ...(interaction && { PSUInteractionTypes: interaction }),
  },
  initiation: {
    CreditorAccount: { SchemeName: 'UK.OBIE.SortCodeAccountNumber', Identification: '40400412345678', Name: 'Acme Streaming' },
  },
  purpose: 'commercial',
  merchant: { name: 'Acme Streaming', categoryCode: '5815', customerReference: 'CUST-0042', context: 'billing_in_advance' },
});

describe('a commercial VRP mandate in plain words (src/wording/vrp.ts)', () => {
  test('the merchant, its customer reference and whether the customer is there, in English and German', () => {
    const facts = vrpFacts(commercial(['OffSession']), new Date('2026-11-15T10:00:00Z'));
    const en = vrpWording(english, facts);
    assert.equal(en.summary, 'up to £30 a payment, at most £60 a calendar month, until 30 June 2027, to Acme Streaming');
    assert.equal(en.sweeping, false);
    assert.deepEqual(en.merchant, { name: 'Acme Streaming', customerReference: 'Your customer reference with Acme Streaming: CUST-0042' });
    assert.equal(en.presence, 'Also when you are not there: you are not asked before each payment.');
    const de = vrpWording(german, facts);
    assert.equal(plain(de.summary), 'bis 30 £ je Zahlung, höchstens 60 £ pro Kalendermonat, bis 30. Juni 2027, an Acme Streaming');
    assert.equal(de.merchant?.customerReference, 'Ihre Kundennummer bei Acme Streaming: CUST-0042');
    assert.equal(de.presence, 'Auch wenn Sie nicht dabei sind: Sie werden nicht vor jeder Zahlung gefragt.');
    assert.equal(
      german.t('consent.heading.commercialVrp', { tpp: 'Streamy', merchant: 'Acme Streaming' }),
      'Streamy möchte für Acme Streaming Zahlungen von Ihrem Konto einziehen, wenn sie fällig sind, innerhalb der unten genannten Grenzen',
    );
  });

  test('in session only says so; a consent without interaction types says nothing about it', () => {
    assert.equal(
      vrpWording(english, vrpFacts(commercial(['InSession']), new Date())).presence,
      'Only while you are there to see each payment.',
    );
    assert.equal(vrpWording(english, vrpFacts(commercial(), new Date())).presence, undefined);
  });

  test('terms without a purpose (an older instance wrote them) are read from their VRPType', () => {
    const { purpose: _purpose, merchant: _merchant, ...older } = commercial();
    assert.equal(vrpFacts(older, new Date()).sweeping, false);
    const sweeping = { ...older, controlParameters: { ...older.controlParameters, VRPType: ['UK.OBIE.VRPType.Sweeping' as const] } };
    assert.equal(vrpFacts(sweeping, new Date()).sweeping, true);
  });
});
