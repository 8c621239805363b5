import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { fetch } from 'undici';
import { issueCertificate } from '../../src/http/dev-pki.ts';
import { duplicateMemberName } from '../../src/http/json-duplicate-keys.ts';
import { tlsAgent } from '../support/assent.ts';
import { ACCOUNT_ACCESS } from '../support/consent-api.ts';
import { changedTables, databaseFingerprint } from '../support/db-fingerprint.ts';
import { useAssent, useConsentApi, useTpp } from '../support/fixture.ts';

/**
 * A JSON body naming one member twice in an object reads two ways (JSON.parse keeps the last, another
 * reader the first): every API of Assent's own refuses it in its shape and writes nothing.
 */

/** A UK account-access consent body naming Permissions twice. */
const body = (permissions: string) =>
  `{"Data":{"Permissions":${permissions},"Permissions":["ReadAccountsBasic"],"ExpirationDateTime":"2099-01-01T00:00:00Z"},"Risk":{}}`;

describe('duplicate member names', () => {
  test('found in any object at any depth, escapes decoded; the same name in different objects is not a duplicate', () => {
    assert.equal(duplicateMemberName('{"a":1,"a":2}'), 'a');
    assert.equal(duplicateMemberName('{"Data":{"Permissions":[],"x":{"k":1,"k":2}}}'), 'k');
    assert.equal(duplicateMemberName('{"a":1,"\\u0061":2}'), 'a');
    assert.equal(duplicateMemberName('[{"a":1},{"a":{"a":[{"a":2}]}}]'), undefined);
    assert.equal(duplicateMemberName('{"a":"{\\"b\\":1,\\"b\\":2}","b":["a","a"]}'), undefined);
    assert.equal(duplicateMemberName('{"a":{"b":1},"b":2,"c":{"b":3}}'), undefined);
    assert.equal(duplicateMemberName('{"x":[1,{"y":2}],"y":3,"x":4}'), 'x');
    assert.equal(duplicateMemberName('"plain"'), undefined);
  });

  const assent = useAssent();
  const tpp = useTpp(assent, { auth: 'tls_client_auth' });
  const api = useConsentApi(assent, tpp);

  test('the UK consent API: 400 UK.OBIE.Resource.InvalidFormat naming the member, no consent made (the same body once is accepted)', async () => {
    const accepted = await api.call('POST', ACCOUNT_ACCESS, {
      body: JSON.parse(body('["ReadAccountsDetail"]')) as Record<string, unknown>,
    });
    assert.equal(accepted.status, 201, JSON.stringify(accepted.body));
    const fingerprint = await databaseFingerprint(assent.db);
    const refused = await api.call('POST', ACCOUNT_ACCESS, { body: body('["ReadAccountsDetail"]') });
    assert.equal(refused.status, 400, JSON.stringify(refused.body));
    const error = (refused.body as { Errors: { ErrorCode: string; Message: string }[] }).Errors[0]!;
    assert.equal(error.ErrorCode, 'UK.OBIE.Resource.InvalidFormat');
    assert.match(error.Message, /"Permissions" twice/);
    assert.deepEqual(changedTables(fingerprint, await databaseFingerprint(assent.db)), []);
  });

  test('the Berlin Group API: 400 FORMAT_ERROR, no consent made', async () => {
    const qwac = tlsAgent(
      assent.ca.certPem,
      await issueCertificate(assent.ca, {
        subject: 'CN=PSDDE-BAFIN-424242,organizationIdentifier=PSDDE-BAFIN-424242,O=Doppelt GmbH,C=DE',
        usage: 'client',
        psd2: { roles: ['PSP_AI'], ncaName: 'BaFin', ncaId: 'DE-BAFIN' },
      }),
    );
    const post = (text: string) =>
      fetch(`${assent.issuer}/v1/consents`, {
        method: 'POST',
        dispatcher: qwac,
        headers: { 'content-type': 'application/json', 'x-request-id': randomUUID(), 'tpp-redirect-uri': 'https://tpp.example/cb' },
        body: text,
      });
    const consent = '"access":{"accounts":[],"balances":[]},"validUntil":"9999-12-31","frequencyPerDay":4,"combinedServiceIndicator":false';
    const once = await post(`{${consent},"recurringIndicator":true}`);
    assert.equal(once.status, 201, await once.text());
    const fingerprint = await databaseFingerprint(assent.db);
    const refused = await post(`{${consent},"recurringIndicator":true,"recurringIndicator":false}`);
    assert.equal(refused.status, 400);
    const answer = (await refused.json()) as { tppMessages: { code: string; text: string }[] };
    assert.equal(answer.tppMessages[0]!.code, 'FORMAT_ERROR');
    assert.match(answer.tppMessages[0]!.text, /"recurringIndicator" twice/);
    assert.deepEqual(changedTables(fingerprint, await databaseFingerprint(assent.db)), []);
    await qwac.close();
  });
});
