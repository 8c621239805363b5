import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { canonicalAmount, fromMinorUnits, toMinorUnits } from '../../../src/consents/vrp/money.ts';
import { periodAt } from '../../../src/consents/vrp/periods.ts';
import type { PeriodAlignment, PeriodType } from '../../../src/consents/vrp/vrp-terms.ts';

const at = (iso: string) => new Date(iso);

/** The period as [start, end) in UTC ISO strings. */
function period(type: PeriodType, alignment: PeriodAlignment, now: string, consentStart = '2026-01-01T12:00:00Z') {
  const { start, end } = periodAt({ PeriodType: type, PeriodAlignment: alignment }, at(consentStart), at(now));
  return [start.toISOString(), end.toISOString()];
}

const hours = ([start, end]: string[]) => (Date.parse(end!) - Date.parse(start!)) / 3_600_000;

describe('VRP periods, calendar alignment, Europe/London', () => {
  test('a month runs from the 1st at London midnight: GMT in winter, BST in summer', () => {
    assert.deepEqual(period('Month', 'Calendar', '2026-11-15T12:00:00Z'), ['2026-11-01T00:00:00.000Z', '2026-12-01T00:00:00.000Z']);
    assert.deepEqual(period('Month', 'Calendar', '2026-07-15T12:00:00Z'), ['2026-06-30T23:00:00.000Z', '2026-07-31T23:00:00.000Z']);
  });

  test('a month that contains a clock change starts in one offset and ends in the other', () => {
    assert.deepEqual(period('Month', 'Calendar', '2026-10-20T12:00:00Z'), ['2026-09-30T23:00:00.000Z', '2026-11-01T00:00:00.000Z']);
    assert.deepEqual(period('Month', 'Calendar', '2027-03-20T12:00:00Z'), ['2027-03-01T00:00:00.000Z', '2027-03-31T23:00:00.000Z']);
  });

  test('the last half hour of a UTC day in summer is already the next London day and month', () => {
    assert.deepEqual(period('Day', 'Calendar', '2026-06-30T23:30:00Z'), ['2026-06-30T23:00:00.000Z', '2026-07-01T23:00:00.000Z']);
    assert.deepEqual(period('Month', 'Calendar', '2026-06-30T23:30:00Z'), ['2026-06-30T23:00:00.000Z', '2026-07-31T23:00:00.000Z']);
    assert.deepEqual(period('Month', 'Calendar', '2026-06-30T22:59:59Z'), ['2026-05-31T23:00:00.000Z', '2026-06-30T23:00:00.000Z']);
  });

  test('days of the clock changes last 23 and 25 hours', () => {
    assert.equal(hours(period('Day', 'Calendar', '2027-03-28T12:00:00Z')), 23);
    assert.equal(hours(period('Day', 'Calendar', '2026-10-25T12:00:00Z')), 25);
    assert.equal(hours(period('Day', 'Calendar', '2026-10-24T12:00:00Z')), 24);
  });

  test('weeks run Monday to Sunday; half-years from 1 January and 1 July; years from 1 January', () => {
    assert.deepEqual(period('Week', 'Calendar', '2026-11-29T20:00:00Z'), ['2026-11-23T00:00:00.000Z', '2026-11-30T00:00:00.000Z']);
    assert.deepEqual(period('Week', 'Calendar', '2026-11-30T00:00:00Z'), ['2026-11-30T00:00:00.000Z', '2026-12-07T00:00:00.000Z']);
    assert.deepEqual(period('Half-year', 'Calendar', '2026-08-01T12:00:00Z'), ['2026-06-30T23:00:00.000Z', '2027-01-01T00:00:00.000Z']);
    assert.deepEqual(period('Half-year', 'Calendar', '2026-02-01T12:00:00Z'), ['2026-01-01T00:00:00.000Z', '2026-06-30T23:00:00.000Z']);
    assert.deepEqual(period('Year', 'Calendar', '2026-12-31T23:59:59Z'), ['2026-01-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z']);
  });

  test('February has 29 days in a leap year and 28 otherwise', () => {
    assert.deepEqual(period('Month', 'Calendar', '2028-02-29T12:00:00Z'), ['2028-02-01T00:00:00.000Z', '2028-03-01T00:00:00.000Z']);
    assert.equal(hours(period('Month', 'Calendar', '2028-02-10T12:00:00Z')), 29 * 24);
    assert.equal(hours(period('Month', 'Calendar', '2027-02-10T12:00:00Z')), 28 * 24);
  });

  test('UK OB defines no calendar fortnight', () => {
    assert.throws(() => period('Fortnight', 'Calendar', '2026-11-15T12:00:00Z'), RangeError);
  });
});

describe('VRP periods, consent alignment', () => {
  test('days are calendar days; weeks and fortnights repeat from the London day the consent starts', () => {
    assert.deepEqual(
      period('Day', 'Consent', '2026-11-15T12:00:00Z', '2026-11-04T15:00:00Z'),
      period('Day', 'Calendar', '2026-11-15T12:00:00Z'),
    );
    // 4 November 2026 is a Wednesday.
    assert.deepEqual(period('Week', 'Consent', '2026-11-10T23:59:59Z', '2026-11-04T15:00:00Z'), [
      '2026-11-04T00:00:00.000Z',
      '2026-11-11T00:00:00.000Z',
    ]);
    assert.deepEqual(period('Week', 'Consent', '2026-11-11T00:00:00Z', '2026-11-04T15:00:00Z'), [
      '2026-11-11T00:00:00.000Z',
      '2026-11-18T00:00:00.000Z',
    ]);
    assert.deepEqual(period('Fortnight', 'Consent', '2026-11-18T09:00:00Z', '2026-11-04T15:00:00Z'), [
      '2026-11-18T00:00:00.000Z',
      '2026-12-02T00:00:00.000Z',
    ]);
  });

  test('a consent started late on a summer evening (UTC) is anchored on the next London day', () => {
    assert.deepEqual(period('Month', 'Consent', '2026-07-10T12:00:00Z', '2026-06-30T23:30:00Z'), [
      '2026-06-30T23:00:00.000Z',
      '2026-07-31T23:00:00.000Z',
    ]);
  });

  test('a consent from the 31st: short months end on their last day, and the 31st comes back', () => {
    const from31 = '2027-01-31T10:00:00Z';
    assert.deepEqual(period('Month', 'Consent', '2027-02-27T12:00:00Z', from31), ['2027-01-31T00:00:00.000Z', '2027-02-28T00:00:00.000Z']);
    assert.deepEqual(period('Month', 'Consent', '2027-02-28T12:00:00Z', from31), ['2027-02-28T00:00:00.000Z', '2027-03-30T23:00:00.000Z']);
    assert.deepEqual(period('Month', 'Consent', '2027-04-15T12:00:00Z', from31), ['2027-03-30T23:00:00.000Z', '2027-04-29T23:00:00.000Z']);
    assert.deepEqual(period('Month', 'Consent', '2028-02-29T12:00:00Z', '2028-01-31T10:00:00Z'), [
      '2028-02-29T00:00:00.000Z',
      '2028-03-30T23:00:00.000Z',
    ]);
  });

  test('a yearly consent from 29 February renews on 28 February in common years and 29 February in leap years', () => {
    const leapDay = '2028-02-29T10:00:00Z';
    assert.deepEqual(period('Year', 'Consent', '2029-02-27T12:00:00Z', leapDay), ['2028-02-29T00:00:00.000Z', '2029-02-28T00:00:00.000Z']);
    assert.deepEqual(period('Year', 'Consent', '2029-03-01T12:00:00Z', leapDay), ['2029-02-28T00:00:00.000Z', '2030-02-28T00:00:00.000Z']);
    assert.deepEqual(period('Year', 'Consent', '2032-03-01T12:00:00Z', leapDay), ['2032-02-29T00:00:00.000Z', '2033-02-28T00:00:00.000Z']);
  });

  test('half-years from 31 August alternate between the end of February and 31 August', () => {
    const from = '2026-08-31T10:00:00Z';
    assert.deepEqual(period('Half-year', 'Consent', '2027-01-15T12:00:00Z', from), [
      '2026-08-30T23:00:00.000Z',
      '2027-02-28T00:00:00.000Z',
    ]);
    assert.deepEqual(period('Half-year', 'Consent', '2027-03-15T12:00:00Z', from), [
      '2027-02-28T00:00:00.000Z',
      '2027-08-30T23:00:00.000Z',
    ]);
  });
});

describe('VRP money', () => {
  test('decimal strings become minor units and back, exactly', () => {
    assert.equal(toMinorUnits('0.1'), 10n);
    assert.equal(toMinorUnits('1000'), 100000n);
    assert.equal(toMinorUnits('9999999999999.99'), 999999999999999n);
    assert.equal(fromMinorUnits(5n), '0.05');
    assert.equal(fromMinorUnits(-150n), '-1.50');
    assert.equal(canonicalAmount('250'), '250.00');
    // 0.1 + 0.2 in floats is 0.30000000000000004; in minor units it is 30.
    assert.equal(fromMinorUnits(toMinorUnits('0.1') + toMinorUnits('0.2')), '0.30');
  });

  test('anything but a plain decimal with at most two fraction digits is refused', () => {
    for (const bad of ['1.005', '1e3', '-1', '', '.5', '1,00', ' 1']) assert.throws(() => toMinorUnits(bad), RangeError, bad);
  });
});
