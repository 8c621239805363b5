import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { addDays, bankCalendar } from '../../src/berlin-group/bg-bank-time.ts';
import { bgCaller, qwacAgent } from '../support/berlin-group.ts';
import { useAssent } from '../support/fixture.ts';

/**
 * The Berlin Group's dates are the bank's (BANK_TIME_ZONE), the zone the bank API counts accesses in: a bank
 * fourteen hours ahead of UTC answers lastActionDate and cuts validUntil by its own calendar, not by UTC's or
 * Berlin's.
 */

const ZONE = 'Pacific/Kiritimati';

interface Answer {
  consentId: string;
  validUntil: string;
  lastActionDate: string;
}

describe('Berlin Group dates in BANK_TIME_ZONE', () => {
  const assent = useAssent({ BANK_TIME_ZONE: ZONE });
  const call = bgCaller<Answer>(() => assent.issuer);

  test("lastActionDate is the bank's date of the consent's last change; a validUntil beyond 180 days is cut to the bank's 180th day", async () => {
    const tpp = await qwacAgent(assent, 'PSDDE-BAFIN-KIRI01', ['PSP_AI']);
    const calendar = bankCalendar(ZONE);
    const before = calendar.dateOf(new Date());
    const created = await call(tpp, 'POST', '/v1/consents', {
      headers: { 'TPP-Redirect-URI': 'https://tpp.example/cb' },
      body: {
        access: { accounts: [], balances: [] },
        recurringIndicator: true,
        validUntil: '9999-12-31',
        frequencyPerDay: 4,
        combinedServiceIndicator: false,
      },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const read = await call(tpp, 'GET', `/v1/consents/${created.body!.consentId}`);
    const after = calendar.dateOf(new Date());
    assert.ok([before, after].includes(read.body!.lastActionDate), `${read.body!.lastActionDate} is the bank's today (${before})`);
    assert.ok([addDays(before, 180), addDays(after, 180)].includes(read.body!.validUntil), read.body!.validUntil);
    // Fourteen hours ahead of UTC: from 10:00 UTC on, the bank's date is already UTC's tomorrow.
    if (new Date().getUTCHours() >= 10 && new Date().getUTCHours() < 23)
      assert.equal(read.body!.lastActionDate, addDays(new Date().toISOString().slice(0, 10), 1));
    await tpp.close();
  });
});
