import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { auditHistory } from '../../src/audit/audit-trail.ts';
import { tlsAgent } from '../support/assent.ts';
import { CustomerAgent } from '../support/customer-agent.ts';
import { createTestCustomer } from '../support/customers.ts';
import {
  callRegistration,
  dpopClientMetadata,
  issueSsa,
  type OnboardingKit,
  runAdmin,
  tppFromRegistration,
} from '../support/onboarding.ts';
import { pushAuthorizationRequest, type TestTpp, redeemCode } from '../support/tpp.ts';
import { useAssent } from '../support/fixture.ts';

const isInvalidClient = (error: oidc.ResponseBodyError) => error.error === 'invalid_client';

describe('suspending and reinstating a TPP', () => {
  let kit: OnboardingKit;
  let tpp: TestTpp;
  let registrationToken: string;
  let registrationPath: string;
  let dpop: oidc.DPoPHandle;

  const assent = useAssent();
  before(async () => {
    kit = await issueSsa(assent, { orgId: 'org-suspended-soon' });
    const registered = await callRegistration(assent, kit.agent, { json: dpopClientMetadata(kit) });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    registrationToken = String(registered.body.registration_access_token);
    registrationPath = new URL(String(registered.body.registration_client_uri)).pathname;
    tpp = await tppFromRegistration(assent, kit, String(registered.body.client_id));
    dpop = oidc.getDPoPHandle(tpp.config, await oidc.randomDPoPKeyPair('ES256'));
  });

  test('suspension kills live tokens at once and refuses every call; reinstatement lets the TPP work again', async () => {
    const customer = await createTestCustomer(assent.db);
    const request = await pushAuthorizationRequest(tpp, {}, { DPoP: dpop });
    const callback = await new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer).authorize(request.url, customer);
    const tokens = await redeemCode(tpp, callback, request, { dpop });
    assert.equal((await oidc.tokenIntrospection(tpp.config, tokens.access_token)).active, true);
    assert.equal((await oidc.fetchUserInfo(tpp.config, tokens.access_token, customer.id, { DPoP: dpop })).sub, customer.id);

    const suspended = JSON.parse(await runAdmin(assent, ['tpp:suspend', tpp.clientId, '--reason', 'FCA authorisation withdrawn'])) as {
      status: string;
    };
    assert.equal(suspended.status, 'suspended');

    await assert.rejects(
      oidc.fetchUserInfo(tpp.config, tokens.access_token, customer.id, { DPoP: dpop }),
      (error: oidc.WWWAuthenticateChallengeError) => error.status === 401,
    );
    await assert.rejects(oidc.clientCredentialsGrant(tpp.config, { scope: 'accounts' }, { DPoP: dpop }), isInvalidClient);
    await assert.rejects(oidc.refreshTokenGrant(tpp.config, tokens.refresh_token!, undefined, { DPoP: dpop }), isInvalidClient);
    await assert.rejects(pushAuthorizationRequest(tpp, {}, { DPoP: dpop }), isInvalidClient);
    await assert.rejects(oidc.tokenIntrospection(tpp.config, tokens.access_token), isInvalidClient);

    const management = await callRegistration(assent, kit.agent, { method: 'GET', path: registrationPath, token: registrationToken });
    assert.equal(management.status, 401);
    assert.equal(management.body.error, 'invalid_client');
    const again = await issueSsa(assent, { orgId: 'org-suspended-soon' });
    const newRegistration = await callRegistration(assent, again.agent, { json: dpopClientMetadata(again) });
    assert.equal(newRegistration.status, 403);
    assert.equal(newRegistration.body.error, 'unauthorized_client');

    const leftovers = await assent.db
      .selectFrom('oidc_model')
      .select('model')
      .where('model', 'not in', ['Client', 'RegistrationAccessToken'])
      .where((eb) => eb(eb.ref('payload', '->>').key('clientId' as never), '=', tpp.clientId))
      .execute();
    assert.deepEqual(leftovers, [], 'no grant, code or token of the TPP survives');

    const reinstated = JSON.parse(await runAdmin(assent, ['tpp:reinstate', tpp.clientId])) as { status: string };
    assert.equal(reinstated.status, 'active');

    assert.equal(
      (await oidc.tokenIntrospection(tpp.config, tokens.access_token)).active,
      false,
      'tokens killed by the suspension stay dead',
    );
    assert.equal((await oidc.tokenIntrospection(tpp.config, tokens.refresh_token!)).active, false);
    const fresh = await oidc.clientCredentialsGrant(tpp.config, { scope: 'accounts' }, { DPoP: dpop });
    assert.equal((await oidc.tokenIntrospection(tpp.config, fresh.access_token)).active, true);
    assert.equal(
      (await callRegistration(assent, kit.agent, { method: 'GET', path: registrationPath, token: registrationToken })).status,
      200,
      'its registration access token works again',
    );

    const history = await auditHistory(assent.db, 'tpp', tpp.clientId);
    assert.deepEqual(
      history.map((entry) => [entry.event, entry.actor.kind]),
      [
        ['tpp.registered', 'tpp'],
        ['tpp.suspended', 'operator'],
        ['tpp.reinstated', 'operator'],
      ],
    );
    assert.deepEqual(history[1]?.after, { status: 'suspended', status_reason: 'FCA authorisation withdrawn' });
    assert.ok(Number(history[1]?.details.artefacts_revoked) >= 3, 'the grant, access and refresh tokens were revoked');
  });

  test('the operator CLI lists and shows TPPs and refuses impossible transitions', async () => {
    const listed = JSON.parse(await runAdmin(assent, ['tpp:list'])) as { clientId: string; status: string }[];
    assert.ok(listed.some((entry) => entry.clientId === tpp.clientId && entry.status === 'active'));
    const shown = JSON.parse(await runAdmin(assent, ['tpp:show', tpp.clientId])) as { name: string; history: { event: string }[] };
    assert.equal(shown.name, 'Acme Budgeting');
    assert.ok(shown.history.length >= 1);
    await assert.rejects(runAdmin(assent, ['tpp:reinstate', tpp.clientId]), /is active, not suspended/);
    await assert.rejects(runAdmin(assent, ['tpp:suspend', tpp.clientId]), /--reason: is required/);
  });
});
