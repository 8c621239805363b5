import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { consumePaymentConsent } from '../../src/consents/consent-service.ts';
import { CONSENT_AUTHORIZATION_REVOKED, RESOURCE_UPDATE } from '../../src/protocol/event-types.ts';
import { EVENT_API_PATHS, OB_API_PREFIX } from '../../src/protocol/routes.ts';
import {
  ACCOUNT_ACCESS,
  ACCOUNT_ACCESS_V4,
  DOMESTIC_PAYMENT,
  DOMESTIC_PAYMENT_V4,
  DOMESTIC_VRP,
  DOMESTIC_VRP_V4,
} from '../support/consent-api.ts';
import { EventReceiver, type ReceivedEvent, verifyWithPublishedJwks } from '../support/event-receiver.ts';
import { useAssent, useConsentApi, useTpp } from '../support/fixture.ts';
import { customerWithAccounts, grantConsent } from '../support/granted-consents.ts';

const OB = 'http://openbanking.org.uk';

interface Subject {
  [key: string]: unknown;
}

const bodyOf = (event: ReceivedEvent, type: string) => event.claims.events[type] as { subject: Subject; status?: string; reason?: string };
const linksOf = (event: ReceivedEvent, type: string) => bodyOf(event, type).subject[`${OB}/rlk`];

/**
 * Issue 29: a UK OB v4.0 consent's event notifications speak v4.0 (its path in `sub`, links to every
 * version serving it in `rlk`, v4.0's status codes), a v3.1 consent's stay exactly as they were; both
 * pushed by the real delivery loop to a real HTTPS receiver and verified against the published JWKS.
 */
describe('event notifications of UK OB v4.0 consents', () => {
  let receiver: EventReceiver;
  const assent = useAssent({ OUTBOUND_ALLOWED_HOSTS: 'localhost', EVENT_PUSH_INTERVAL_MS: '50', EVENT_PUSH_BACKOFF_MS: '200' });
  const tpp = useTpp(assent);
  const api = useConsentApi(assent, tpp);
  before(async () => {
    receiver = await EventReceiver.start(assent);
    const registered = await api.call('POST', `${OB_API_PREFIX}${EVENT_API_PATHS.callbackUrls}`, {
      body: { Data: { Url: receiver.url, Version: '3.1' } },
    });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
  });
  after(async () => {
    await receiver?.stop();
  });

  test('a v4.0 account-access consent is linked at its v4.0 path, then v3.1, with v4.0 status codes', async () => {
    const { customer, current } = await customerWithAccounts(assent);
    const { consentId } = await grantConsent(assent, tpp, customer, { type: 'account_access', accounts: [current], version: 'v4.0' });
    assert.equal((await api.call('DELETE', `${ACCOUNT_ACCESS_V4}/${consentId}`)).status, 204);

    const [authorised, revoked, revocation] = await receiver.waitFor(3, consentId);
    const v4Link = `${assent.issuer}${ACCOUNT_ACCESS_V4}/${consentId}`;
    const links = [
      { version: 'v4.0', link: v4Link },
      { version: 'v3.1', link: `${assent.issuer}${ACCOUNT_ACCESS}/${consentId}` },
    ];
    const { payload } = await verifyWithPublishedJwks(assent, authorised!.set, tpp.clientId);
    assert.equal(payload.sub, v4Link);
    assert.equal(bodyOf(authorised!, RESOURCE_UPDATE).status, 'AUTH');
    assert.deepEqual(linksOf(authorised!, RESOURCE_UPDATE), links);
    assert.equal(bodyOf(authorised!, RESOURCE_UPDATE).subject[`${OB}/rty`], 'account-access-consent');

    assert.equal(revoked!.claims.sub, v4Link);
    assert.equal(bodyOf(revoked!, RESOURCE_UPDATE).status, 'CANC');
    assert.equal(revocation!.claims.sub, v4Link);
    assert.equal(bodyOf(revocation!, CONSENT_AUTHORIZATION_REVOKED).reason, 'revoked by the TPP');
    assert.deepEqual(linksOf(revocation!, CONSENT_AUTHORIZATION_REVOKED), links);
    assert.deepEqual(
      [authorised, revoked, revocation].map((event) => event!.claims.consent_seq),
      [1, 2, 3],
    );
  });

  test("a v4.0 payment consent's status is the one its v4.0 GET shows: consumed reads COND", async () => {
    const { customer, current } = await customerWithAccounts(assent);
    const { consentId } = await grantConsent(assent, tpp, customer, { type: 'domestic_payment', accounts: [current], version: 'v4.0' });
    await consumePaymentConsent(assent.db, { consentId, actor: { kind: 'resource_server', id: null } });
    const [authorised, consumed] = await receiver.waitFor(2, consentId);
    assert.equal(authorised!.claims.sub, `${assent.issuer}${DOMESTIC_PAYMENT_V4}/${consentId}`);
    assert.deepEqual(
      [authorised, consumed].map((event) => bodyOf(event!, RESOURCE_UPDATE).status),
      ['AUTH', 'COND'],
    );
    const shown = await api.call('GET', `${DOMESTIC_PAYMENT_V4}/${consentId}`);
    assert.equal((shown.body as { Data: { Status: string } }).Data.Status, 'COND');
    assert.deepEqual(linksOf(consumed!, RESOURCE_UPDATE), [
      { version: 'v4.0', link: `${assent.issuer}${DOMESTIC_PAYMENT_V4}/${consentId}` },
      { version: 'v3.1', link: `${assent.issuer}${DOMESTIC_PAYMENT}/${consentId}` },
    ]);
  });

  test('a v4.0 VRP consent is linked where v4.0 serves it, under /pisp, then at v3.1’s /vrp', async () => {
    const { customer, current } = await customerWithAccounts(assent);
    const { consentId } = await grantConsent(assent, tpp, customer, { type: 'domestic_vrp', accounts: [current], version: 'v4.0' });
    assert.equal((await api.call('DELETE', `${DOMESTIC_VRP_V4}/${consentId}`)).status, 204);
    const [authorised, revoked] = await receiver.waitFor(3, consentId);
    const v4Link = `${assent.issuer}${DOMESTIC_VRP_V4}/${consentId}`;
    assert.ok(v4Link.includes('/open-banking/v4.0/pisp/domestic-vrp-consents/'));
    assert.equal(authorised!.claims.sub, v4Link);
    assert.deepEqual(linksOf(revoked!, RESOURCE_UPDATE), [
      { version: 'v4.0', link: v4Link },
      { version: 'v3.1', link: `${assent.issuer}${DOMESTIC_VRP}/${consentId}` },
    ]);
    assert.deepEqual(
      [authorised, revoked].map((event) => bodyOf(event!, RESOURCE_UPDATE).status),
      ['AUTH', 'CANC'],
    );
    assert.equal((await api.call('GET', v4Link.slice(assent.issuer.length))).status, 200, 'the v4.0 link answers');
  });

  test("a v3.1 consent's events are unchanged, even when v4.0 revokes it: its v3.1 link only, v3.1 status names", async () => {
    const { customer, current } = await customerWithAccounts(assent);
    const { consentId } = await grantConsent(assent, tpp, customer, { type: 'account_access', accounts: [current] });
    assert.equal((await api.call('DELETE', `${ACCOUNT_ACCESS_V4}/${consentId}`)).status, 204);
    const [authorised, revoked, revocation] = await receiver.waitFor(3, consentId);
    const v3Link = `${assent.issuer}${ACCOUNT_ACCESS}/${consentId}`;
    for (const event of [authorised!, revoked!, revocation!]) assert.equal(event.claims.sub, v3Link);
    assert.deepEqual(
      [authorised, revoked].map((event) => bodyOf(event!, RESOURCE_UPDATE).status),
      ['Authorised', 'Revoked'],
    );
    assert.deepEqual(linksOf(revocation!, CONSENT_AUTHORIZATION_REVOKED), [{ version: 'v3.1', link: v3Link }]);
    assert.deepEqual(linksOf(authorised!, RESOURCE_UPDATE), [{ version: 'v3.1', link: v3Link }]);
  });
});
