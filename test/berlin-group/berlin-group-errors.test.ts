import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Router } from '@koa/router';
import Koa from 'koa';
import { pino } from 'pino';
import request from 'supertest';
import { bgEdgeRefusal, BgError, bgErrors } from '../../src/berlin-group/bg-error.ts';
import { BG_MESSAGE_CODES, type BgMessageCode, bgErrorRowOf, bgStatusesOf, bgStatusOf } from '../../src/berlin-group/bg-errors.ts';
import { JsonBodyRefused, readJsonBody } from '../../src/http/json-body.ts';
import { refuseHostileInput } from '../../src/http/hostile-input.ts';
import { TokenRejected } from '../../src/http/presented-token.ts';
import { AccessRefused } from '../../src/http/route-guard.ts';
import { AssentError, type AssentErrorCode } from '../../src/protocol/assent-error.ts';
import { ClientThrottled } from '../../src/protocol/client-throttled.ts';
import { DatabaseUnavailable } from '../../src/protocol/database-unavailable.ts';

const REQUEST_ID = '99391c7e-ad88-49ec-a2ad-99ddcb1f7721';

/**
 * The status of every NextGenPSD2 message code, as the OpenAPI file v1.3.11 lists them under
 * MessageCode400/401/403/404/405/406/409/429 (the first status is the one Assent answers by default).
 */
const EXPECTED: Record<BgMessageCode, number[]> = {
  FORMAT_ERROR: [400],
  PARAMETER_NOT_CONSISTENT: [400],
  PARAMETER_NOT_SUPPORTED: [400],
  SERVICE_INVALID: [400, 405],
  RESOURCE_UNKNOWN: [404, 403, 400],
  RESOURCE_EXPIRED: [403, 400],
  RESOURCE_BLOCKED: [400],
  TIMESTAMP_INVALID: [400],
  PERIOD_INVALID: [400],
  SCA_METHOD_UNKNOWN: [400],
  CONSENT_UNKNOWN: [403, 400],
  SESSIONS_NOT_SUPPORTED: [400],
  PAYMENT_FAILED: [400],
  EXECUTION_DATE_INVALID: [400],
  CERTIFICATE_INVALID: [401],
  ROLE_INVALID: [401],
  CERTIFICATE_EXPIRED: [401],
  CERTIFICATE_BLOCKED: [401],
  CERTIFICATE_REVOKED: [401],
  CERTIFICATE_MISSING: [401],
  SIGNATURE_INVALID: [401],
  SIGNATURE_MISSING: [401],
  CORPORATE_ID_INVALID: [401],
  PSU_CREDENTIALS_INVALID: [401],
  CONSENT_INVALID: [401],
  CONSENT_EXPIRED: [401],
  TOKEN_UNKNOWN: [401],
  TOKEN_INVALID: [401],
  TOKEN_EXPIRED: [401],
  SERVICE_BLOCKED: [403],
  PRODUCT_INVALID: [403],
  PRODUCT_UNKNOWN: [404],
  CANCELLATION_INVALID: [405],
  REQUESTED_FORMATS_INVALID: [406],
  STATUS_INVALID: [409],
  ACCESS_EXCEEDED: [429],
};

const row = (code: string) => bgErrorRowOf(new AssentError(code as AssentErrorCode, 'x'));

describe('the message codes and their statuses', () => {
  test('every code has the statuses the guidelines give it, the default first', () => {
    assert.deepEqual(Object.keys(BG_MESSAGE_CODES).toSorted(), Object.keys(EXPECTED).toSorted());
    for (const [code, statuses] of Object.entries(EXPECTED) as [BgMessageCode, number[]][]) {
      assert.equal(bgStatusOf(code), statuses[0], code);
      assert.deepEqual(bgStatusesOf(code).toSorted(), statuses.toSorted(), code);
      assert.ok(BG_MESSAGE_CODES[code].text.length > 0, `${code} has a text`);
    }
  });

  test('a code of several statuses answers the one of how the faulty thing was addressed', () => {
    assert.equal(bgStatusOf('CONSENT_UNKNOWN', 'path'), 403);
    assert.equal(bgStatusOf('CONSENT_UNKNOWN', 'payload'), 400);
    assert.equal(bgStatusOf('SERVICE_INVALID', 'method'), 405);
    assert.equal(bgStatusOf('SERVICE_INVALID', 'payload'), 400);
    assert.equal(bgStatusOf('RESOURCE_UNKNOWN', 'payload'), 400);
    assert.equal(bgStatusOf('RESOURCE_UNKNOWN', 'resource'), 403, 'a payment id of the path');
    assert.equal(bgStatusOf('RESOURCE_UNKNOWN', 'path'), 404, 'a path not served');
    assert.equal(bgStatusOf('RESOURCE_EXPIRED', 'payload'), 400);
    assert.equal(bgStatusOf('ROLE_INVALID', 'payload'), 401, 'a code of one status ignores how');
  });

  test('ROLE_INVALID is 401 and CERTIFICATE_REVOKED is spelt as the guidelines spell it', () => {
    assert.equal(bgStatusOf('ROLE_INVALID'), 401);
    assert.ok('CERTIFICATE_REVOKED' in BG_MESSAGE_CODES);
    assert.ok(!('CERTIFICATE_REVOKE' in BG_MESSAGE_CODES));
  });

  test('service errors read as Berlin Group codes; codes the routes cannot cause have no row', () => {
    assert.deepEqual(row('consent_not_found'), { code: 'CONSENT_UNKNOWN', addressed: 'path' });
    assert.deepEqual(row('consent_expired'), { code: 'CONSENT_EXPIRED' });
    assert.deepEqual(row('consent_status_invalid'), { code: 'STATUS_INVALID' });
    assert.deepEqual(row('request_body_invalid'), { code: 'FORMAT_ERROR' });
    assert.equal(row('csrf_rejected'), undefined);
    assert.equal(row('grant_not_found'), undefined);
    // The eIDAS helper's codes, ready for the merge.
    assert.deepEqual(row('certificate_invalid'), { code: 'CERTIFICATE_INVALID' });
    assert.deepEqual(row('certificate_expired'), { code: 'CERTIFICATE_EXPIRED' });
    assert.deepEqual(row('role_invalid'), { code: 'ROLE_INVALID' });
    assert.deepEqual(row('signature_invalid'), { code: 'SIGNATURE_INVALID' });
  });
});

/** A Berlin Group app whose one route throws what it is given. */
function appThrowing(thrown: () => unknown) {
  const app = new Koa();
  const errors: unknown[] = [];
  const logger = pino({ level: 'silent' });
  const logged = { ...logger, error: (entry: unknown) => errors.push(entry) } as unknown as typeof logger;
  app.use(refuseHostileInput(bgEdgeRefusal));
  app.use(bgErrors(logged));
  const router = new Router({ prefix: '/v1' });
  router.post('/consents', async (ctx) => {
    await readJsonBody(ctx);
    throw thrown();
  });
  router.get('/consents/:consentId', () => {
    throw thrown();
  });
  app.use(router.routes()).use(router.allowedMethods({ throw: true }));
  return { server: app.callback(), errors };
}

const get = (thrown: () => unknown) => request(appThrowing(thrown).server).get('/v1/consents/c1').set('X-Request-ID', REQUEST_ID);

describe('the error handler answers every failure in the envelope', () => {
  test('a BgError: its status, the envelope and the request id echoed', async () => {
    const answer = await get(() => BgError.of('CONSENT_UNKNOWN', 'no such consent', { addressed: 'path', path: 'consentId' }));
    assert.equal(answer.status, 403);
    assert.deepEqual(answer.body, {
      tppMessages: [{ category: 'ERROR', code: 'CONSENT_UNKNOWN', path: 'consentId', text: 'no such consent' }],
    });
    assert.equal(answer.headers['x-request-id'], REQUEST_ID);
  });

  test('a service error through the table; one without a row is a 500 without a body, logged', async () => {
    const expired = await get(() => new AssentError('consent_expired', 'the consent has expired'));
    assert.equal(expired.status, 401);
    assert.equal(expired.body.tppMessages[0].code, 'CONSENT_EXPIRED');
    const { server, errors } = appThrowing(() => new AssentError('csrf_rejected', 'x'));
    const unexpected = await request(server).get('/v1/consents/c1').set('X-Request-ID', REQUEST_ID);
    assert.equal(unexpected.status, 500);
    assert.equal(unexpected.text, '');
    assert.equal(unexpected.headers['x-request-id'], REQUEST_ID);
    assert.equal(errors.length, 1);
  });

  test('an unexpected error leaks nothing', async () => {
    const answer = await get(() => new TypeError('secret internals'));
    assert.equal(answer.status, 500);
    assert.equal(answer.text, '');
    assert.ok(!JSON.stringify(answer.headers).includes('secret'));
  });

  test('the route guard: TOKEN_INVALID 401 with the challenge', async () => {
    const rejected = await get(() => new TokenRejected('the access token is not active'));
    assert.equal(rejected.status, 401);
    assert.equal(rejected.body.tppMessages[0].code, 'TOKEN_INVALID');
    assert.match(rejected.headers['www-authenticate']!, /^Bearer error="invalid_token"/);
    const refused = await get(() => new AccessRefused('the access token lacks the accounts scope', ['accounts']));
    assert.equal(refused.status, 401);
    assert.match(refused.headers['www-authenticate']!, /insufficient_scope/);
  });

  test('throttled: 429 with Retry-After and no body; the database away: 503 with Retry-After and no body', async () => {
    const throttled = await get(() => new ClientThrottled(7));
    assert.equal(throttled.status, 429);
    assert.equal(throttled.headers['retry-after'], '7');
    assert.equal(throttled.text, '');
    const away = await get(() => new DatabaseUnavailable());
    assert.equal(away.status, 503);
    assert.equal(away.headers['retry-after'], '5');
    assert.equal(away.text, '');
    assert.equal(away.headers['x-request-id'], REQUEST_ID);
  });

  test('an unknown path under /v1 is RESOURCE_UNKNOWN 404; an unknown method SERVICE_INVALID 405', async () => {
    const { server } = appThrowing(() => new Error('not reached'));
    const unknown = await request(server).get('/v1/nothing-here').set('X-Request-ID', REQUEST_ID);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.tppMessages[0].code, 'RESOURCE_UNKNOWN');
    assert.equal(unknown.headers['x-request-id'], REQUEST_ID);
    const method = await request(server).put('/v1/consents').set('X-Request-ID', REQUEST_ID);
    assert.equal(method.status, 405);
    assert.equal(method.body.tppMessages[0].code, 'SERVICE_INVALID');
  });

  test('bodies: not JSON is FORMAT_ERROR; another media type is 415 without a body', async () => {
    const { server } = appThrowing(() => new Error('not reached'));
    const post = () => request(server).post('/v1/consents').set('X-Request-ID', REQUEST_ID);
    const malformed = await post().set('content-type', 'application/json').send('{"access":');
    assert.equal(malformed.status, 400);
    assert.deepEqual(malformed.body.tppMessages, [{ category: 'ERROR', code: 'FORMAT_ERROR', text: 'the request body is not valid JSON' }]);
    const form = await post().set('content-type', 'application/x-www-form-urlencoded').send('a=b');
    assert.equal(form.status, 415);
    assert.equal(form.text, '');
    assert.equal(form.headers['x-request-id'], REQUEST_ID);
    const invalid = await request(appThrowing(() => new JsonBodyRefused('invalid', 'access is required')).server)
      .get('/v1/consents/c1')
      .set('X-Request-ID', REQUEST_ID);
    assert.equal(invalid.status, 400);
    assert.equal(invalid.body.tppMessages[0].text, 'access is required');
  });

  test('hostile input is refused at the edge as FORMAT_ERROR, the request id echoed', async () => {
    const { server } = appThrowing(() => new Error('not reached'));
    const answer = await request(server)
      .post('/v1/consents')
      .set('X-Request-ID', REQUEST_ID)
      .set('content-type', 'application/json')
      .send('{"access":{"accounts":[{"iban":"DE89\\u000037040044053201300"}]}}');
    assert.equal(answer.status, 400);
    assert.equal(answer.body.tppMessages[0].code, 'FORMAT_ERROR');
    assert.equal(answer.headers['x-request-id'], REQUEST_ID);
  });

  test('a malformed X-Request-ID is not echoed', async () => {
    const answer = await request(appThrowing(() => BgError.of('FORMAT_ERROR')).server)
      .get('/v1/consents/c1')
      .set('X-Request-ID', 'not-a-uuid');
    assert.equal(answer.status, 400);
    assert.equal(answer.headers['x-request-id'], undefined);
  });
});
