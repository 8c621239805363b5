import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { auditHistory } from '../../src/audit/audit-trail.ts';
import { getTppProfile } from '../../src/tpp/tpp-service.ts';
import { callRegistration, dpopClientMetadata, issueSsa, type OnboardingKit, tppFromRegistration } from '../support/onboarding.ts';
import { useAssent } from '../support/fixture.ts';

describe('RFC 7592 management of a registered TPP client', () => {
  let kit: OnboardingKit;
  let clientId: string;
  let token: string;
  let path: string;

  const assent = useAssent();
  before(async () => {
    kit = await issueSsa(assent);
    const registered = await callRegistration(assent, kit.agent, { json: dpopClientMetadata(kit) });
    assert.equal(registered.status, 201, JSON.stringify(registered.body));
    clientId = String(registered.body.client_id);
    token = String(registered.body.registration_access_token);
    path = new URL(String(registered.body.registration_client_uri)).pathname;
  });

  test('read returns the client and the statement it was registered with', async () => {
    const read = await callRegistration(assent, kit.agent, { method: 'GET', path, token });
    assert.equal(read.status, 200);
    assert.equal(read.body.client_id, clientId);
    assert.deepEqual(read.body.redirect_uris, ['https://acme.example/callback']);
    assert.equal(read.body.software_statement, kit.softwareStatement);
    assert.deepEqual(read.body.software_roles, ['AISP', 'PISP']);
  });

  test('a wrong registration access token is refused with 401 on read, update and delete', async () => {
    for (const method of ['GET', 'PUT', 'DELETE']) {
      const response = await callRegistration(assent, kit.agent, {
        method,
        path,
        token: `${token}x`,
        ...(method === 'PUT' && { json: { client_id: clientId } }),
      });
      assert.equal(response.status, 401, method);
      assert.equal(response.body.error, 'invalid_token', method);
    }
    const anonymous = await callRegistration(assent, kit.agent, { method: 'GET', path });
    assert.equal(anonymous.status, 401);
    assert.equal((await callRegistration(assent, kit.agent, { method: 'GET', path, token })).status, 200, 'the real token still works');
  });

  test("another client's registration access token does not open this client", async () => {
    const other = await issueSsa(assent);
    const registered = await callRegistration(assent, other.agent, { json: dpopClientMetadata(other) });
    const response = await callRegistration(assent, other.agent, {
      method: 'GET',
      path,
      token: String(registered.body.registration_access_token),
    });
    assert.equal(response.status, 401);
  });

  test('an update goes through the same checks against the stored statement', async () => {
    const update = (changes: Record<string, unknown>) => ({
      ...dpopClientMetadata(kit),
      software_statement: undefined,
      client_id: clientId,
      ...changes,
    });
    const outside = await callRegistration(assent, kit.agent, {
      method: 'PUT',
      path,
      token,
      json: update({ redirect_uris: ['https://evil.example/callback'] }),
    });
    assert.equal(outside.status, 400);
    assert.equal(outside.body.error, 'invalid_redirect_uri');
    const secret = await callRegistration(assent, kit.agent, {
      method: 'PUT',
      path,
      token,
      json: update({ token_endpoint_auth_method: 'client_secret_basic' }),
    });
    assert.equal(secret.body.error, 'invalid_client_metadata');
    const unchanged = await callRegistration(assent, kit.agent, { method: 'GET', path, token });
    assert.deepEqual(unchanged.body.redirect_uris, ['https://acme.example/callback'], 'refused updates change nothing');

    const updated = await callRegistration(assent, kit.agent, {
      method: 'PUT',
      path,
      token,
      json: update({ redirect_uris: ['https://acme.example/other'] }),
    });
    assert.equal(updated.status, 200, JSON.stringify(updated.body));
    assert.deepEqual(updated.body.redirect_uris, ['https://acme.example/other']);
    assert.equal(updated.body.software_id, kit.softwareId);
    const rotated = String(updated.body.registration_access_token);
    assert.notEqual(rotated, token, 'the registration access token rotates on update');
    assert.equal((await callRegistration(assent, kit.agent, { method: 'GET', path, token })).status, 401, 'the old token is gone');
    token = rotated;

    const history = await auditHistory(assent.db, 'tpp', clientId);
    const event = history.find((entry) => entry.event === 'tpp.updated');
    assert.ok(event, 'the update is audited');
    assert.deepEqual((event.before as { client: { redirect_uris: string[] } }).client.redirect_uris, ['https://acme.example/callback']);
    assert.deepEqual((event.after as { client: { redirect_uris: string[] } }).client.redirect_uris, ['https://acme.example/other']);
  });

  test('delete removes the client and its tokens; the TPP record stays for history', async () => {
    const tpp = await tppFromRegistration(assent, kit, clientId, 'https://acme.example/other');
    const dpop = oidc.getDPoPHandle(tpp.config, await oidc.randomDPoPKeyPair('ES256'));
    const granted = await oidc.clientCredentialsGrant(tpp.config, { scope: 'accounts' }, { DPoP: dpop });
    assert.ok(granted.access_token);

    const wrong = await callRegistration(assent, kit.agent, { method: 'DELETE', path, token: 'not-the-token' });
    assert.equal(wrong.status, 401);
    const deleted = await callRegistration(assent, kit.agent, { method: 'DELETE', path, token });
    assert.equal(deleted.status, 204);

    assert.equal((await callRegistration(assent, kit.agent, { method: 'GET', path, token })).status, 401);
    await assert.rejects(
      oidc.clientCredentialsGrant(tpp.config, { scope: 'accounts' }, { DPoP: dpop }),
      (error: oidc.ResponseBodyError) => error.error === 'invalid_client',
    );
    const leftovers = await assent.db
      .selectFrom('oidc_model')
      .select('model')
      .where((eb) => eb(eb.ref('payload', '->>').key('clientId' as never), '=', clientId))
      .execute();
    assert.deepEqual(leftovers, []);
    assert.equal((await getTppProfile(assent.db, clientId))?.status, 'deleted');
    assert.deepEqual(
      (await auditHistory(assent.db, 'tpp', clientId)).map((entry) => entry.event),
      ['tpp.registered', 'tpp.updated', 'tpp.deleted'],
    );
  });
});
