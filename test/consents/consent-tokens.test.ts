import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createLocalJWKSet, decodeJwt, type JWK, jwtVerify } from 'jose';
import * as oidc from 'openid-client';
import { fetch } from 'undici';
import { auditHistory } from '../../src/audit/audit-trail.ts';
import { getConsent, revokeConsent } from '../../src/consents/consent-service.ts';
import { type TestAssent, tlsAgent } from '../support/assent.ts';
import {
  ACCOUNT_ACCESS,
  accountAccessRequest,
  type ApiResponse,
  ConsentApiClient,
  DOMESTIC_PAYMENT,
  domesticPaymentRequest,
  FUNDS_CONFIRMATION,
  fundsConfirmationRequest,
} from '../support/consent-api.ts';
import { CustomerAgent } from '../support/customer-agent.ts';
import type { TestCustomer } from '../support/customers.ts';
import { callRegistration, dpopClientMetadata, issueSsa, runAdmin, tppFromRegistration } from '../support/onboarding.ts';
import { TestResourceServer } from '../support/resource-server.ts';
import { createTestTpp, pushAuthorizationRequest, type TestTpp, redeemCode } from '../support/tpp.ts';
import { customerWithAccounts, intentClaims } from '../support/granted-consents.ts';
import { useAssent, useConsentApi, useResourceServer, useTpp } from '../support/fixture.ts';

const isInvalidGrant = (error: oidc.ResponseBodyError) => error.error === 'invalid_grant';
const inSeconds = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();
const consentIdOf = (response: ApiResponse) => (response.body as { Data: { ConsentId: string } }).Data.ConsentId;

/** PAR, both SCA factors, the account choice on the consent page, then the code exchange with DPoP. */
async function authorise(
  assent: TestAssent,
  tpp: TestTpp,
  parameters: Record<string, string>,
  customer: TestCustomer,
  choice: Record<string, string>,
) {
  const dpop = oidc.getDPoPHandle(tpp.config, await oidc.randomDPoPKeyPair('PS256'));
  const request = await pushAuthorizationRequest(tpp, parameters, { DPoP: dpop });
  const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
  const page = await browser.signIn(request.url, customer);
  const callback = await browser.submit(page, 'confirm', choice);
  assert.ok(callback.url.searchParams.get('code'), `expected a code, got ${callback.url} ${callback.body.slice(0, 300)}`);
  const tokens = await redeemCode(tpp, callback.url, request, { dpop, idTokenExpected: true });
  return { tokens, dpop };
}

describe('tokens that carry consents', () => {
  const assent = useAssent();
  const tpp = useTpp(assent);
  const api = useConsentApi(assent, tpp);
  const rs = useResourceServer(assent);

  /** An Authorised account-access consent of a fresh customer, with its tokens. */
  async function authorisedAccountAccess(options: { expiresInSeconds?: number; client?: TestTpp; consentApi?: ConsentApiClient } = {}) {
    const { customer, current, savings } = await customerWithAccounts(assent);
    const body = accountAccessRequest(
      options.expiresInSeconds === undefined ? {} : { ExpirationDateTime: inSeconds(options.expiresInSeconds) },
    );
    const consentId = consentIdOf(await (options.consentApi ?? api).call('POST', ACCOUNT_ACCESS, { body }));
    const choice = { [`account:${current.id}`]: 'on', [`account:${savings.id}`]: 'on' };
    const { tokens, dpop } = await authorise(
      assent,
      options.client ?? tpp,
      { scope: 'openid accounts', claims: intentClaims(consentId) },
      customer,
      choice,
    );
    return { consentId, customer, current, savings, choice, tokens, dpop, permissions: body.Data.Permissions };
  }

  async function authorisedPayment() {
    const { customer, current } = await customerWithAccounts(assent);
    const consentId = consentIdOf(
      await api.call('POST', DOMESTIC_PAYMENT, { body: domesticPaymentRequest(), headers: { 'x-idempotency-key': crypto.randomUUID() } }),
    );
    const details = JSON.stringify([{ type: 'payment_initiation', consent_id: consentId }]);
    const { tokens, dpop } = await authorise(assent, tpp, { scope: 'openid payments', authorization_details: details }, customer, {
      account: current.id,
    });
    return { consentId, customer, current, tokens, dpop };
  }

  test('AIS token: a resource server learns the consent, its permissions, accounts and expiry, as JSON and as a signed JWT', async () => {
    const { consentId, current, savings, tokens, permissions } = await authorisedAccountAccess();
    const consent = await getConsent(assent.db, consentId);
    const introspected = await rs.introspect(tokens.access_token);
    assert.equal(introspected.active, true);
    assert.equal(introspected.client_id, tpp.clientId);
    assert.equal(introspected.consent_id, consentId);
    assert.equal(introspected.consent_type, 'account_access');
    assert.equal(introspected.consent_status, 'Authorised');
    assert.deepEqual(introspected.permissions, permissions);
    assert.deepEqual((introspected.account_ids as string[]).toSorted(), [current.id, savings.id].toSorted());
    assert.equal(introspected.expiration, Math.floor(consent!.expiresAt!.getTime() / 1000));
    assert.deepEqual(introspected.authorization_details, [{ type: 'account_information', consent_id: consentId }]);
    assert.ok((introspected.cnf as { jkt?: string }).jkt, 'the token is DPoP-bound');
    assert.ok(introspected.exp! <= (introspected.expiration as number));

    const { contentType, jwt } = await rs.introspectAsJwt(tokens.access_token);
    assert.match(contentType, /application\/token-introspection\+jwt/);
    const jwks = (await (await fetch(`${assent.issuer}/jwks`, { dispatcher: tlsAgent(assent.ca.certPem) })).json()) as { keys: JWK[] };
    const { payload } = await jwtVerify(jwt, createLocalJWKSet(jwks), { issuer: assent.issuer, audience: rs.clientId });
    const signed = payload.token_introspection as Record<string, unknown>;
    assert.equal(signed.active, true);
    assert.equal(signed.consent_id, consentId);
    assert.equal(signed.consent_status, 'Authorised');
    assert.deepEqual(signed.permissions, permissions);

    // The dashboard's "last used": introspection of a consent-bound token records it.
    const used = await assent.db.selectFrom('consent').select('last_used_at').where('id', '=', consentId).executeTakeFirstOrThrow();
    assert.ok(used.last_used_at && Date.now() - used.last_used_at.getTime() < 60_000);
  });

  test('PIS token from authorization_details: introspection carries the payment consent; the bank reads the whole consent', async () => {
    const { consentId, current, tokens } = await authorisedPayment();
    const introspected = await rs.introspect(tokens.access_token);
    assert.equal(introspected.active, true);
    assert.equal(introspected.consent_id, consentId);
    assert.equal(introspected.consent_type, 'domestic_payment');
    assert.equal(introspected.consent_status, 'Authorised');
    assert.deepEqual(introspected.permissions, []);
    assert.deepEqual(introspected.account_ids, [current.id]);
    assert.equal(introspected.expiration, null);
    assert.deepEqual(introspected.authorization_details, [{ type: 'payment_initiation', consent_id: consentId }]);
    assert.equal(decodeJwtSafe(tokens.access_token), undefined, 'access tokens stay opaque');

    const read = await rs.call('GET', `/bank/consents/${consentId}`);
    assert.equal(read.status, 200);
    const data = (read.body as { Data: Record<string, unknown> }).Data;
    assert.equal(data.ConsentId, consentId);
    assert.equal(data.Status, 'Authorised');
    assert.equal(data.ClientId, tpp.clientId);
    assert.deepEqual(data.AccountIds, [current.id]);
    assert.deepEqual((data.Initiation as { InstructedAmount: unknown }).InstructedAmount, { Amount: '165.88', Currency: 'GBP' });

    const unknown = await rs.call('GET', `/bank/consents/${crypto.randomUUID()}`);
    assert.equal(unknown.status, 404);
    assert.equal((unknown.body as { Errors: { ErrorCode: string }[] }).Errors[0]?.ErrorCode, 'UK.OBIE.Resource.NotFound');
  });

  test('CBPII token: introspection names the funds-confirmation consent; a consume attempt is refused and consumes nothing', async () => {
    const { customer, current } = await customerWithAccounts(assent);
    const debtor = { SchemeName: current.schemeName, Identification: current.identification, Name: current.name };
    const consentId = consentIdOf(
      await api.call('POST', FUNDS_CONFIRMATION, { body: fundsConfirmationRequest({ DebtorAccount: debtor }) }),
    );
    const { tokens } = await authorise(assent, tpp, { scope: 'openid fundsconfirmations', claims: intentClaims(consentId) }, customer, {
      account: current.id,
    });

    const introspected = await rs.introspect(tokens.access_token);
    assert.equal(introspected.consent_type, 'funds_confirmation');
    assert.equal(introspected.consent_status, 'Authorised');
    assert.deepEqual(introspected.account_ids, [current.id]);
    assert.deepEqual(introspected.authorization_details, [{ type: 'funds_confirmation', consent_id: consentId }]);

    const refused = await rs.call('POST', `/bank/payment-consents/${consentId}/consume`);
    assert.equal(refused.status, 400);
    assert.equal((refused.body as { Errors: { ErrorCode: string }[] }).Errors[0]?.ErrorCode, 'UK.OBIE.Resource.InvalidConsentStatus');
    assert.equal((await getConsent(assent.db, consentId))?.status, 'Authorised');
    assert.equal((await rs.introspect(tokens.access_token)).active, true, 'funds checks do not consume');
  });

  test("a TPP cannot introspect another TPP's consent-bound token", async () => {
    const { tokens } = await authorisedAccountAccess();
    const other = await createTestTpp(assent);
    assert.deepEqual(await oidc.tokenIntrospection(other.config, tokens.access_token), { active: false });
    assert.equal((await oidc.tokenIntrospection(tpp.config, tokens.access_token)).active, true, 'its own TPP still may');
  });

  test('the bank API is for resource servers with a bank token only, answered in the UK OB envelope', async () => {
    const { consentId } = await authorisedPayment();
    const asTpp = await api.call('POST', `/bank/payment-consents/${consentId}/consume`);
    assert.equal(asTpp.status, 403);
    assert.equal((asTpp.body as { Code: string }).Code, '403 Forbidden');
    const anonymous = await fetch(`${assent.issuer}/bank/consents/${consentId}`, { dispatcher: tlsAgent(assent.ca.certPem) });
    assert.equal(anonymous.status, 401);
    assert.equal(((await anonymous.json()) as { Errors: { ErrorCode: string }[] }).Errors[0]?.ErrorCode, 'UK.OBIE.Header.Missing');
    assert.equal((await getConsent(assent.db, consentId))?.status, 'Authorised');

    const greedy = await createTestTpp(assent, { metadata: { scope: 'openid accounts bank' } });
    await assert.rejects(
      oidc.clientCredentialsGrant(
        greedy.config,
        { scope: 'bank' },
        { DPoP: oidc.getDPoPHandle(greedy.config, await oidc.randomDPoPKeyPair('ES256')) },
      ),
      (error: oidc.ResponseBodyError) => {
        assert.equal(error.error, 'invalid_client_metadata', `${error.error}: ${error.error_description}`);
        assert.match(error.error_description ?? '', /bank scope is for the bank's resource servers/);
        return true;
      },
    );
  });

  test('64 parallel consume calls: exactly one 200, the rest 400 in the UK OB envelope; the payment token dies', async () => {
    const { consentId, tokens, dpop } = await authorisedPayment();
    const results = await Promise.all(Array.from({ length: 64 }, () => rs.call('POST', `/bank/payment-consents/${consentId}/consume`)));
    const winners = results.filter((result) => result.status === 200);
    assert.equal(winners.length, 1);
    assert.equal((winners[0]!.body as { Data: { Status: string } }).Data.Status, 'Consumed');
    for (const loser of results.filter((result) => result.status !== 200)) {
      assert.equal(loser.status, 400);
      const envelope = loser.body as { Code: string; Id: string; Errors: { ErrorCode: string; Message: string }[] };
      assert.equal(envelope.Code, '400 BadRequest');
      assert.ok(envelope.Id);
      assert.equal(envelope.Errors[0]?.ErrorCode, 'UK.OBIE.Resource.InvalidConsentStatus');
      assert.match(envelope.Errors[0]!.Message, /Consumed/);
    }
    assert.equal((await getConsent(assent.db, consentId))?.status, 'Consumed');
    const events = (await auditHistory(assent.db, 'consent', consentId)).filter((event) => event.event === 'consent.consumed');
    assert.equal(events.length, 1);
    assert.deepEqual(events[0]?.actor, { kind: 'resource_server', id: rs.clientId });
    assert.equal((await rs.introspect(tokens.access_token)).active, false);
    await assert.rejects(oidc.refreshTokenGrant(tpp.config, tokens.refresh_token!, undefined, { DPoP: dpop }), isInvalidGrant);
    assert.equal((await rs.call('POST', `/bank/payment-consents/${consentId}/consume`)).status, 400, 'a later call fails too');
  });

  describe('revocation with immediate effect: the next introspection says active: false', () => {
    test("the TPP's DELETE on the consent", async () => {
      const { consentId, tokens } = await authorisedAccountAccess();
      assert.equal((await rs.introspect(tokens.access_token)).active, true);
      assert.equal((await api.call('DELETE', `${ACCOUNT_ACCESS}/${consentId}`)).status, 204);
      assert.equal((await rs.introspect(tokens.access_token)).active, false);
      assert.equal((await rs.introspect(tokens.refresh_token!)).active, false);
    });

    test("the customer's revocation through the consent service", async () => {
      const { consentId, customer, tokens, dpop } = await authorisedAccountAccess();
      await revokeConsent(assent.db, { consentId, actor: { kind: 'customer', id: customer.id } });
      assert.equal((await rs.introspect(tokens.access_token)).active, false);
      await assert.rejects(oidc.refreshTokenGrant(tpp.config, tokens.refresh_token!, undefined, { DPoP: dpop }), isInvalidGrant);
    });

    test('suspension of the TPP (tpp:suspend)', async () => {
      const kit = await issueSsa(assent, { orgId: 'org-consent-tokens' });
      const registered = await callRegistration(assent, kit.agent, { json: dpopClientMetadata(kit) });
      assert.equal(registered.status, 201, JSON.stringify(registered.body));
      const registeredTpp = await tppFromRegistration(assent, kit, String(registered.body.client_id));
      const consentApi = await ConsentApiClient.create(assent, registeredTpp, 'accounts');
      const { tokens } = await authorisedAccountAccess({ client: registeredTpp, consentApi });
      assert.equal((await rs.introspect(tokens.access_token)).active, true);
      // `--` ends the options: a registered client id may begin with '-'.
      await runAdmin(assent, ['tpp:suspend', '--reason', 'licence withdrawn', '--', registeredTpp.clientId]);
      assert.equal((await rs.introspect(tokens.access_token)).active, false);
    });

    test('expiry of the consent, without waiting for the sweep', async () => {
      const { consentId, tokens, dpop } = await authorisedAccountAccess();
      assert.equal((await rs.introspect(tokens.access_token)).active, true);
      // The consent's end moves into the past; nothing else (grant, tokens, status) is touched.
      await assent.db
        .updateTable('consent')
        .set({ expires_at: new Date(Date.now() - 1000) })
        .where('id', '=', consentId)
        .execute();
      assert.equal((await rs.introspect(tokens.access_token)).active, false);
      assert.equal((await rs.introspect(tokens.refresh_token!)).active, false);
      await assert.rejects(oidc.refreshTokenGrant(tpp.config, tokens.refresh_token!, undefined, { DPoP: dpop }), isInvalidGrant);
      const stored = await assent.db.selectFrom('consent').select('status').where('id', '=', consentId).executeTakeFirstOrThrow();
      assert.equal(stored.status, 'Authorised', 'the sweep has not run');
    });

    test('RFC 7009 revocation of the refresh token revokes the grant and every token under it', async () => {
      const { tokens, dpop } = await authorisedAccountAccess();
      await oidc.tokenRevocation(tpp.config, tokens.refresh_token!);
      assert.equal((await rs.introspect(tokens.access_token)).active, false);
      assert.equal((await rs.introspect(tokens.refresh_token!)).active, false);
      await assert.rejects(oidc.refreshTokenGrant(tpp.config, tokens.refresh_token!, undefined, { DPoP: dpop }), isInvalidGrant);
    });
  });

  test('tokens end with the consent: a refresh past its expiration is invalid_grant, and no token outlives it', async () => {
    const { consentId, tokens, dpop } = await authorisedAccountAccess({ expiresInSeconds: 8 });
    const consent = await getConsent(assent.db, consentId);
    const expiration = Math.floor(consent!.expiresAt!.getTime() / 1000);
    assert.ok(tokens.expires_in! <= 8, `access token lives ${tokens.expires_in}s, longer than its consent`);
    const refresh = await rs.introspect(tokens.refresh_token!);
    assert.ok(refresh.exp! <= expiration + 1, 'the refresh token ends with the consent');
    const refreshed = await oidc.refreshTokenGrant(tpp.config, tokens.refresh_token!, undefined, { DPoP: dpop });
    assert.ok((await rs.introspect(refreshed.access_token)).exp! <= expiration + 1);

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, consent!.expiresAt!.getTime() - Date.now()) + 1100));
    assert.equal((await rs.introspect(tokens.access_token)).active, false);
    await assert.rejects(oidc.refreshTokenGrant(tpp.config, tokens.refresh_token!, undefined, { DPoP: dpop }), isInvalidGrant);
  });

  test('UK OB re-authentication: the same ConsentId in a new grant; the old grant and its tokens die', async () => {
    const first = await authorisedAccountAccess();
    const previous = await getConsent(assent.db, first.consentId);
    const second = await authorise(assent, tpp, { scope: 'openid accounts', claims: intentClaims(first.consentId) }, first.customer, {
      [`account:${first.current.id}`]: 'on',
    });
    assert.equal(second.tokens.claims()?.openbanking_intent_id, first.consentId);

    const current = await getConsent(assent.db, first.consentId);
    assert.equal(current?.status, 'Authorised');
    assert.notEqual(current?.grantId, previous?.grantId);
    assert.deepEqual(current?.selectedAccountIds, [first.current.id]);
    assert.equal((await rs.introspect(first.tokens.access_token)).active, false);
    await assert.rejects(oidc.refreshTokenGrant(tpp.config, first.tokens.refresh_token!, undefined, { DPoP: first.dpop }), isInvalidGrant);
    const fresh = await rs.introspect(second.tokens.access_token);
    assert.equal(fresh.active, true);
    assert.deepEqual(fresh.account_ids, [first.current.id]);
    const history = await auditHistory(assent.db, 'consent', first.consentId);
    assert.deepEqual(
      history.map((event) => event.event),
      ['consent.created', 'consent.authorised', 'consent.reauthorised'],
    );

    // Another customer cannot take the consent over: refused, and nothing changes.
    const stranger = await customerWithAccounts(assent);
    const dpop = oidc.getDPoPHandle(tpp.config, await oidc.randomDPoPKeyPair('PS256'));
    const request = await pushAuthorizationRequest(
      tpp,
      { scope: 'openid accounts', claims: intentClaims(first.consentId) },
      { DPoP: dpop },
    );
    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    const page = await browser.signIn(request.url, stranger.customer);
    const refused = await browser.submit(page, 'confirm', { [`account:${stranger.current.id}`]: 'on' });
    assert.equal(refused.url.searchParams.get('error'), 'access_denied');
    assert.equal((await getConsent(assent.db, first.consentId))?.grantId, current?.grantId);
    assert.equal((await rs.introspect(second.tokens.access_token)).active, true);

    // Only account-access consents are re-authenticated; a payment consent is authorised once.
    const payment = await authorisedPayment();
    await assert.rejects(
      pushAuthorizationRequest(tpp, { scope: 'openid payments', claims: intentClaims(payment.consentId) }),
      (error: oidc.ResponseBodyError) =>
        error.error === 'invalid_request' && /Authorised, not AwaitingAuthorisation/.test(error.error_description ?? ''),
    );
  });
});

describe('consent-bound refresh tokens with rotation', () => {
  const assent = useAssent({ REFRESH_TOKEN_ROTATION: 'true' });

  // The race ends the consent (refresh token reused) while the winner stores its token, so the winner's
  // check after issuance may refuse it too: at most one 200, and nothing it got stays active.
  test("32 racers on one refresh token: at most one winner, and the race revokes the consent's grant", async () => {
    const tpp = await createTestTpp(assent);
    const api = await ConsentApiClient.create(assent, tpp);
    const rs = await TestResourceServer.create(assent);
    const { customer, current } = await customerWithAccounts(assent);
    const consentId = consentIdOf(await api.call('POST', ACCOUNT_ACCESS, { body: accountAccessRequest() }));
    const { tokens, dpop } = await authorise(assent, tpp, { scope: 'openid accounts', claims: intentClaims(consentId) }, customer, {
      [`account:${current.id}`]: 'on',
    });
    const results = await Promise.allSettled(
      Array.from({ length: 32 }, () => oidc.refreshTokenGrant(tpp.config, tokens.refresh_token!, undefined, { DPoP: dpop })),
    );
    const winners = results.filter((result) => result.status === 'fulfilled');
    assert.ok(winners.length <= 1);
    for (const result of results)
      if (result.status === 'rejected') assert.equal((result.reason as oidc.ResponseBodyError).error, 'invalid_grant');
    for (const winner of winners) assert.equal((await rs.introspect(winner.value.access_token)).active, false);
    assert.equal((await rs.introspect(tokens.access_token)).active, false);
    assert.equal(((await api.call('GET', `${ACCOUNT_ACCESS}/${consentId}`)).body as { Data: { Status: string } }).Data.Status, 'Revoked');
  });
});

/** An opaque token is no JWT. */
function decodeJwtSafe(token: string) {
  try {
    return decodeJwt(token);
  } catch {
    return undefined;
  }
}
