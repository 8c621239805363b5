import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { before, describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { axeViolations, useChromium, seriousOnly, signInToDashboard } from '../support/browser.ts';
import { initiate, intentClaimsObject, registerCibaTpp } from '../support/ciba.ts';
import { ACCOUNT_ACCESS, accountAccessRequest, ConsentApiClient } from '../support/consent-api.ts';
import { oneTimeCode } from '../support/customers.ts';
import { customerWithAccounts } from '../support/granted-consents.ts';
import { useAssent } from '../support/fixture.ts';

const SCREENSHOTS = 'test-results';

/**
 * The decoupled flow with the customer in Chromium: openid-client as the TPP starts a CIBA request and
 * polls; the customer, signed in to the dashboard, finds it under "Requests to approve", checks the
 * binding message and the consent's words, picks accounts, enters the one-time code and approves.
 * The other outcomes go through the JSON endpoint (ciba.test.ts).
 */
describe('decoupled approval on the dashboard in a real browser', () => {
  const assent = useAssent({ CIBA_POLL_INTERVAL: '1' });
  const browser = useChromium();
  before(async () => {
    await mkdir(SCREENSHOTS, { recursive: true });
  });

  test("the TPP asks, the customer approves with the one-time code in Chromium, the TPP's poll gets the tokens", async () => {
    const { customer, current, savings } = await customerWithAccounts(assent);
    const tpp = await registerCibaTpp(assent, {}, 'Corner Shop Till');
    const api = await ConsentApiClient.create(assent, tpp, 'accounts payments');
    const consentId = ((await api.call('POST', ACCOUNT_ACCESS, { body: accountAccessRequest() })).body as { Data: { ConsentId: string } })
      .Data.ConsentId;

    const page = await browser.context.newPage();
    await signInToDashboard(page, assent.issuer, customer);

    const dpop = oidc.getDPoPHandle(tpp.config, await oidc.randomDPoPKeyPair('ES256'));
    const started = await initiate(assent, tpp, {
      login_hint: customer.username,
      binding_message: 'SHOP 3141',
      claims: intentClaimsObject(consentId),
    });
    const tokens = oidc
      .pollBackchannelAuthenticationGrant(tpp.config, started, undefined, { DPoP: dpop, signal: AbortSignal.timeout(90_000) })
      .then(
        (value) => value,
        (error: unknown) => error as Error,
      );

    await page.getByRole('link', { name: 'Requests to approve' }).click();
    await page.waitForURL(`${assent.issuer}/dashboard/decoupled`);
    const request = page.getByRole('region', { name: 'Corner Shop Till wants to see information about your accounts' });
    await request.getByText('SHOP 3141').waitFor();
    assert.equal(await request.getByText('Code shown by Corner Shop Till:').count(), 1);
    await request.getByText('Your transactions in full').waitFor();
    const serious = seriousOnly(await axeViolations(page));
    assert.deepEqual(serious, [], JSON.stringify(serious, null, 2));
    await page.screenshot({ path: `${SCREENSHOTS}/decoupled-request.png`, fullPage: true });

    await page.goto(`${assent.issuer}/dashboard/decoupled?lang=de`);
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Anfragen, die auf Ihre Freigabe warten');
    await page.goto(`${assent.issuer}/dashboard/decoupled?lang=en`);

    await request.getByRole('checkbox', { name: new RegExp(current.name) }).check();
    await request.getByRole('checkbox', { name: new RegExp(savings.name) }).check();
    await request.getByLabel('One-time code').fill(await oneTimeCode(customer));
    await request.getByRole('button', { name: 'Approve with one-time code' }).click();
    await page.waitForURL(`${assent.issuer}/dashboard/decoupled?outcome=approved`);
    assert.equal(await page.getByRole('status').textContent(), 'Approved. The provider can now continue.');
    assert.equal(await page.getByRole('region').count(), 0, 'nothing else waits');

    const issued = await tokens;
    if (issued instanceof Error) throw issued;
    assert.equal(issued.claims()?.openbanking_intent_id, consentId);
    const consent = await assent.db
      .selectFrom('consent')
      .select(['status', 'selected_account_ids'])
      .where('id', '=', consentId)
      .executeTakeFirstOrThrow();
    assert.equal(consent.status, 'Authorised');
    assert.deepEqual(new Set(consent.selected_account_ids as string[]), new Set([current.id, savings.id]));
  });
});
