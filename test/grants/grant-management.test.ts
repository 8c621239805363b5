import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { fetch } from 'undici';
import { getConsent, revokeConsent } from '../../src/consents/consent-service.ts';
import { CONSENT_AUTHORIZATION_REVOKED } from '../../src/protocol/event-types.ts';
import { SCOPE } from '../../src/protocol/scopes.ts';
import { GRANTS_PATH } from '../../src/protocol/routes.ts';
import { tlsAgent } from '../support/assent.ts';
import { ConsentApiClient } from '../support/consent-api.ts';
import { customerWithAccounts, type GrantedConsent, grantConsent } from '../support/granted-consents.ts';
import { pushAuthorizationRequest, type TestTpp } from '../support/tpp.ts';
import { useAssent, useResourceServer, useTpp } from '../support/fixture.ts';

const { grantManagementQuery: GRANT_MANAGEMENT_QUERY, grantManagementRevoke: GRANT_MANAGEMENT_REVOKE } = SCOPE;
const GRANT_SCOPES = `openid accounts payments fundsconfirmations ${GRANT_MANAGEMENT_QUERY} ${GRANT_MANAGEMENT_REVOKE}`;

const grantIdOf = (granted: GrantedConsent) => (granted.tokens as unknown as { grant_id?: string }).grant_id;

/** PAR must refuse these parameters; the OAuth error code it answered with. */
async function refused(tpp: TestTpp, parameters: Record<string, string>) {
  const error = await pushAuthorizationRequest(tpp, { scope: 'openid accounts', ...parameters }).then(
    () => undefined,
    (caught: unknown) => caught as { error?: string },
  );
  assert.ok(error, `PAR accepted ${JSON.stringify(parameters)}`);
  return error.error;
}

describe('FAPI Grant Management: grant_id, query, revoke, merge, replace', () => {
  const assent = useAssent();
  const alpha = useTpp(assent, { metadata: { scope: GRANT_SCOPES } });
  const beta = useTpp(assent, { metadata: { scope: GRANT_SCOPES } });
  const rs = useResourceServer(assent);

  async function grants(
    tpp: TestTpp,
    method: 'GET' | 'DELETE',
    grantId: string,
    scope: string = method === 'GET' ? GRANT_MANAGEMENT_QUERY : GRANT_MANAGEMENT_REVOKE,
  ) {
    const api = await ConsentApiClient.create(assent, tpp, scope);
    return api.call(method, `${GRANTS_PATH}/${encodeURIComponent(grantId)}`);
  }

  test('discovery announces the grant management endpoint and actions', async () => {
    const response = await fetch(new URL('/.well-known/openid-configuration', assent.issuer), { dispatcher: tlsAgent(assent.ca.certPem) });
    const metadata = (await response.json()) as Record<string, unknown>;
    assert.deepEqual(metadata.grant_management_actions_supported, ['create', 'merge', 'replace']);
    assert.equal(metadata.grant_management_endpoint, `${assent.issuer}${GRANTS_PATH}`);
    assert.equal(metadata.grant_management_action_required, false);
    assert.ok((metadata.scopes_supported as string[]).includes(GRANT_MANAGEMENT_QUERY));
  });

  test('the token response names the grant; GET describes it to its own client only', async () => {
    const { customer, current } = await customerWithAccounts(assent);
    const granted = await grantConsent(assent, alpha, customer, { type: 'account_access', accounts: [current] });
    const grantId = grantIdOf(granted);
    assert.ok(grantId, 'grant_id in the token response');

    const described = await grants(alpha, 'GET', grantId);
    assert.equal(described.status, 200, JSON.stringify(described.body));
    const body = described.body as {
      scopes: { scope: string; resource?: string[] }[];
      claims: string[];
      authorization_details: { consent_id: string }[];
      consents: { consent_id: string; consent_status: string }[];
    };
    assert.ok(body.scopes.some((entry) => entry.scope.split(' ').includes('accounts')));
    assert.ok(body.claims.includes('openbanking_intent_id'));
    assert.deepEqual(
      body.authorization_details.map((detail) => detail.consent_id),
      [granted.consentId],
    );
    assert.deepEqual(
      body.consents.map((consent) => [consent.consent_id, consent.consent_status]),
      [[granted.consentId, 'Authorised']],
    );

    assert.equal((await grants(beta, 'GET', grantId)).status, 404, "another TPP's grant does not exist for it");
    const unknown = await grants(alpha, 'GET', 'no-such-grant');
    assert.equal(unknown.status, 404);
    assert.deepEqual(unknown.body, { error: 'invalid_grant_id', error_description: 'no such grant' });
    const wrongScope = await grants(alpha, 'GET', grantId, 'accounts');
    assert.equal(wrongScope.status, 403);
    assert.equal((wrongScope.body as { error: string }).error, 'insufficient_scope');
    const api = await ConsentApiClient.create(assent, alpha, GRANT_MANAGEMENT_QUERY);
    const anonymous = await api.raw('GET', `${GRANTS_PATH}/${grantId}`, {});
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get('www-authenticate') ?? '', /invalid_token/);
    assert.equal(anonymous.headers.get('cache-control'), 'no-store');
    assert.equal((anonymous.body as { error: string }).error, 'invalid_token');
  });

  test('DELETE revokes the grant, its tokens and its consent, and emits the event; another TPP cannot', async () => {
    const { customer, current } = await customerWithAccounts(assent);
    const granted = await grantConsent(assent, alpha, customer, { type: 'account_access', accounts: [current] });
    const grantId = grantIdOf(granted)!;

    assert.equal((await grants(beta, 'DELETE', grantId)).status, 404);
    assert.equal((await getConsent(assent.db, granted.consentId))?.status, 'Authorised', "another TPP's DELETE changed nothing");
    assert.equal((await grants(alpha, 'DELETE', grantId, GRANT_MANAGEMENT_QUERY)).status, 403, 'query scope cannot revoke');

    assert.equal((await grants(alpha, 'DELETE', grantId)).status, 204);
    assert.equal((await getConsent(assent.db, granted.consentId))?.status, 'Revoked');
    assert.equal((await rs.introspect(granted.tokens.access_token)).active, false);
    await assert.rejects(oidc.refreshTokenGrant(alpha.config, granted.tokens.refresh_token!, undefined, { DPoP: granted.dpop }));
    const event = await assent.db
      .selectFrom('consent_event')
      .selectAll()
      .where('consent_id', '=', granted.consentId)
      .where('event_type', '=', CONSENT_AUTHORIZATION_REVOKED)
      .executeTakeFirstOrThrow();
    assert.equal(event.reason, 'grant revoked by the TPP (grant management)');
    assert.equal((await grants(alpha, 'GET', grantId)).status, 404);
  });

  test('PAR refuses grant management parameters that do not fit', async () => {
    const { customer, current } = await customerWithAccounts(assent);
    const granted = await grantConsent(assent, alpha, customer, { type: 'account_access', accounts: [current] });
    const grantId = grantIdOf(granted)!;
    assert.equal(await refused(alpha, { grant_management_action: 'merge' }), 'invalid_request');
    assert.equal(await refused(alpha, { grant_management_action: 'update', grant_id: grantId }), 'invalid_request');
    assert.equal(await refused(alpha, { grant_management_action: 'create', grant_id: grantId }), 'invalid_request');
    assert.equal(await refused(alpha, { grant_id: grantId }), 'invalid_request');
    assert.equal(await refused(alpha, { grant_management_action: 'merge', grant_id: 'unknown' }), 'invalid_grant_id');
    assert.equal(await refused(beta, { grant_management_action: 'merge', grant_id: grantId }), 'invalid_grant_id', "another TPP's grant");
  });

  test('merge adds a second consent to the same grant and the token carries both; ending one narrows the grant', async () => {
    const { customer, current, savings } = await customerWithAccounts(assent);
    const first = await grantConsent(assent, alpha, customer, { type: 'account_access', accounts: [current] });
    const grantId = grantIdOf(first)!;
    const second = await grantConsent(assent, alpha, customer, {
      type: 'domestic_payment',
      accounts: [savings],
      parameters: { grant_management_action: 'merge', grant_id: grantId },
    });
    assert.equal(grantIdOf(second), grantId, 'the same grant');
    assert.equal((await getConsent(assent.db, second.consentId))?.grantId, grantId);

    const introspected = await rs.introspect(second.tokens.access_token);
    assert.equal(introspected.active, true);
    assert.deepEqual(
      (introspected.consents as { consent_id: string }[]).map((consent) => consent.consent_id).toSorted(),
      [first.consentId, second.consentId].toSorted(),
    );
    assert.deepEqual(
      (introspected.authorization_details as unknown as { consent_id: string }[]).map((detail) => detail.consent_id).toSorted(),
      [first.consentId, second.consentId].toSorted(),
    );
    const described = (await grants(alpha, 'GET', grantId)).body as { consents: { consent_id: string }[] };
    assert.equal(described.consents.length, 2);

    // The customer revokes the first consent: tokens carrying it die, the second consent lives on.
    await revokeConsent(assent.db, { consentId: first.consentId, actor: { kind: 'customer', id: customer.id } });
    assert.equal((await rs.introspect(second.tokens.access_token)).active, false, 'the token carried the revoked consent');
    assert.equal((await getConsent(assent.db, second.consentId))?.status, 'Authorised');
    const refreshed = await oidc.refreshTokenGrant(alpha.config, second.tokens.refresh_token!, undefined, { DPoP: second.dpop });
    const narrowed = await rs.introspect(refreshed.access_token);
    assert.equal(narrowed.active, true);
    assert.equal(narrowed.consent_id, second.consentId);
    assert.equal(narrowed.consents, undefined);
    assert.deepEqual(
      (narrowed.authorization_details as unknown as { consent_id: string }[]).map((detail) => detail.consent_id),
      [second.consentId],
    );
  });

  test("merge into another customer's grant is refused, and changes nothing", async () => {
    const one = await customerWithAccounts(assent);
    const other = await customerWithAccounts(assent);
    const granted = await grantConsent(assent, alpha, one.customer, { type: 'account_access', accounts: [one.current] });
    await assert.rejects(
      grantConsent(assent, alpha, other.customer, {
        type: 'account_access',
        accounts: [other.current],
        parameters: { grant_management_action: 'merge', grant_id: grantIdOf(granted)! },
      }),
      /access_denied|did not return|consent page/,
    );
    assert.equal((await rs.introspect(granted.tokens.access_token)).active, true);
  });

  test('replace swaps what the grant holds: the old consent is revoked, the grant id stays', async () => {
    const { customer, current } = await customerWithAccounts(assent);
    const first = await grantConsent(assent, alpha, customer, { type: 'account_access', accounts: [current] });
    const grantId = grantIdOf(first)!;
    const second = await grantConsent(assent, alpha, customer, {
      type: 'account_access',
      accounts: [current],
      parameters: { grant_management_action: 'replace', grant_id: grantId },
    });
    assert.equal(grantIdOf(second), grantId);
    assert.equal((await getConsent(assent.db, first.consentId))?.status, 'Revoked');
    assert.equal((await rs.introspect(first.tokens.access_token)).active, false);
    const introspected = await rs.introspect(second.tokens.access_token);
    assert.equal(introspected.active, true);
    assert.equal(introspected.consent_id, second.consentId);
  });
});
