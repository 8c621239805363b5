import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { auditHistory } from '../../src/audit/audit-trail.ts';
import {
  type ApiResponse,
  consentCount,
  DOMESTIC_PAYMENT,
  DOMESTIC_PAYMENT_V4,
  domesticPaymentRequest,
  domesticPaymentRequestV4,
} from '../support/consent-api.ts';
import { useAssent, useConsentApi, useTpp } from '../support/fixture.ts';

const consentIdOf = (response: ApiResponse) => (response.body as { Data: { ConsentId: string } }).Data.ConsentId;

/**
 * One x-idempotency-key namespace per TPP across UK OB v3.1 and v4.0 (docs/uk-ob-v4.md, "A repeated
 * idempotency key"): a consent is one resource whichever version created it, so a key the TPP used in
 * one version names that resource in the other too. Reused with the other version's body it is
 * refused in the envelope of the version asked and writes nothing: a TPP retrying a payment consent
 * mid-migration never gets a second consent for one payment.
 */
describe('an x-idempotency-key used on v3.1 and then on v4.0', () => {
  const assent = useAssent();
  const tpp = useTpp(assent);
  const api = useConsentApi(assent, tpp);
  const other = useTpp(assent);
  const otherApi = useConsentApi(assent, other);

  test('a v3.1 key reused on v4.0 is U006 and writes nothing; a v4.0 key reused on v3.1 is UK.OBIE.Header.Invalid', async () => {
    const key = randomUUID();
    const first = await api.call('POST', DOMESTIC_PAYMENT, { body: domesticPaymentRequest(), headers: { 'x-idempotency-key': key } });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    const firstId = consentIdOf(first);
    const [count, history] = [await consentCount(assent.db), await auditHistory(assent.db, 'consent', firstId)];

    const onV4 = await api.call('POST', DOMESTIC_PAYMENT_V4, { body: domesticPaymentRequestV4(), headers: { 'x-idempotency-key': key } });
    assert.equal(onV4.status, 400, JSON.stringify(onV4.body));
    assert.deepEqual(
      (onV4.body as { Errors: { ErrorCode: string; Path?: string }[] }).Errors.map(({ ErrorCode, Path }) => [ErrorCode, Path]),
      [['U006', 'x-idempotency-key']],
    );
    assert.equal(await consentCount(assent.db), count, 'no second consent');
    assert.deepEqual(await auditHistory(assent.db, 'consent', firstId), history, 'the first consent unchanged');
    // The v3.1 repeat still gets its consent: the refusal on v4.0 spent nothing.
    const again = await api.call('POST', DOMESTIC_PAYMENT, { body: domesticPaymentRequest(), headers: { 'x-idempotency-key': key } });
    assert.equal(again.status, 201);
    assert.equal(consentIdOf(again), firstId);

    const v4Key = randomUUID();
    const created = await api.call('POST', DOMESTIC_PAYMENT_V4, {
      body: domesticPaymentRequestV4(),
      headers: { 'x-idempotency-key': v4Key },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const onV3 = await api.call('POST', DOMESTIC_PAYMENT, { body: domesticPaymentRequest(), headers: { 'x-idempotency-key': v4Key } });
    assert.equal(onV3.status, 400);
    assert.deepEqual(
      (onV3.body as { Errors: { ErrorCode: string; Path?: string }[] }).Errors.map(({ ErrorCode, Path }) => [ErrorCode, Path]),
      [['UK.OBIE.Header.Invalid', 'x-idempotency-key']],
    );
    const repeated = await api.call('POST', DOMESTIC_PAYMENT_V4, {
      body: domesticPaymentRequestV4(),
      headers: { 'x-idempotency-key': v4Key },
    });
    assert.equal(repeated.status, 201);
    assert.equal(consentIdOf(repeated), consentIdOf(created), 'the same key and body on v4.0: the same consent');
    assert.equal((repeated.body as { Data: { Status: string } }).Data.Status, 'AWAU');
  });

  test('the namespace is the TPP’s: another TPP may use the same key in either version', async () => {
    const key = randomUUID();
    const mine = await api.call('POST', DOMESTIC_PAYMENT, { body: domesticPaymentRequest(), headers: { 'x-idempotency-key': key } });
    const theirs = await otherApi.call('POST', DOMESTIC_PAYMENT_V4, {
      body: domesticPaymentRequestV4(),
      headers: { 'x-idempotency-key': key },
    });
    assert.equal(mine.status, 201);
    assert.equal(theirs.status, 201, JSON.stringify(theirs.body));
    assert.notEqual(consentIdOf(theirs), consentIdOf(mine));
  });
});
