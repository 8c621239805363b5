import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import Koa from 'koa';
import { errors } from 'oidc-provider';
import { fetch } from 'undici';
import { AccountSelectionInvalid, ConsentExpired, ConsentNotFound, IdempotencyConflict } from '../../src/consents/consent-errors.ts';
import { loadConfig } from '../../src/config.ts';
import { BindingRefused } from '../../src/consents/consent-errors.ts';
import { IllegalConsentTransition } from '../../src/consents/consent-status.ts';
import { SignInFailed } from '../../src/dashboard/openid-sign-in.ts';
import { CsrfRejected } from '../../src/http/csrf.ts';
import { errorPage } from '../../src/http/error-page.ts';
import { BodyError } from '../../src/http/form-body.ts';
import { createViews } from '../../src/http/views.ts';
import { DynamicLinkBroken } from '../../src/interactions/dynamic-linking.ts';
import { createLogger } from '../../src/logger.ts';
import { obErrors } from '../../src/ob-api/ob-error.ts';
import { toOAuthError } from '../../src/oidc/oauth-errors.ts';
import { AssentError } from '../../src/protocol/assent-error.ts';
import { TppStateError } from '../../src/tpp/tpp-service.ts';

const SERVICE_ERRORS = [
  new ConsentNotFound(),
  new ConsentExpired(),
  new AccountSelectionInvalid('select exactly one account'),
  new IdempotencyConflict(),
  new IllegalConsentTransition('domestic_payment', 'Consumed', 'Revoked'),
  new BindingRefused('unknown consent', { cause: new Error('underneath') }),
  new DynamicLinkBroken(),
  new TppStateError('no TPP with client id x'),
  new CsrfRejected(),
  new BodyError(413, 'form too large'),
  new SignInFailed('dash.signIn.cancelled'),
];

test('every service error is an AssentError with a distinct code, a status and expose', () => {
  for (const error of SERVICE_ERRORS) {
    assert.ok(error instanceof AssentError, error.name);
    assert.ok(error.status >= 400 && error.status < 500, `${error.name} ${error.status}`);
    assert.equal(error.expose, true, error.name);
  }
  assert.equal(new Set(SERVICE_ERRORS.map((error) => error.code)).size, SERVICE_ERRORS.length);
  assert.equal((SERVICE_ERRORS[5]!.cause as Error).message, 'underneath');
});

/** A real Koa server whose one route throws what the test hands it, behind the edge under test. */
async function edge(middleware: Koa.Middleware) {
  let toThrow: unknown;
  const app = new Koa();
  app.use(middleware);
  app.use(() => {
    throw toThrow;
  });
  const server = app.listen(0);
  await new Promise((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    async answer(error: unknown) {
      toThrow = error;
      const response = await fetch(url);
      return { status: response.status, text: await response.text() };
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

describe('the UK OB envelope table', () => {
  let ob: Awaited<ReturnType<typeof edge>>;
  before(async () => {
    ob = await edge(obErrors(createLogger('silent')));
  });
  after(() => ob.close());

  test('maps consent errors the same for the consent API and the bank API', async () => {
    const cases: [AssentError, number, string, string][] = [
      [new ConsentNotFound(), 404, 'UK.OBIE.Resource.NotFound', 'ConsentId'],
      [new ConsentExpired(), 400, 'UK.OBIE.Resource.InvalidConsentStatus', 'Status'],
      [new IllegalConsentTransition('domestic_payment', 'Consumed', 'Revoked'), 400, 'UK.OBIE.Resource.InvalidConsentStatus', 'Status'],
      [new IdempotencyConflict(), 400, 'UK.OBIE.Header.Invalid', 'x-idempotency-key'],
    ];
    for (const [error, status, code, path] of cases) {
      const answered = await ob.answer(error);
      assert.equal(answered.status, status, error.name);
      const body = JSON.parse(answered.text) as { Errors: { ErrorCode: string; Message: string; Path?: string }[] };
      assert.deepEqual(body.Errors, [{ ErrorCode: code, Message: error.message, Path: path }]);
    }
  });

  test('a service error without a row, or any other error, is an unexpected error without details', async () => {
    for (const error of [new CsrfRejected(), new Error('secret detail')]) {
      const answered = await ob.answer(error);
      assert.equal(answered.status, 500);
      assert.match(answered.text, /UK\.OBIE\.UnexpectedError/);
      assert.doesNotMatch(answered.text, /secret detail|This form has expired/);
    }
  });
});

describe('the page table', () => {
  let page: Awaited<ReturnType<typeof edge>>;
  before(async () => {
    page = await edge(
      errorPage(createViews({ branding: loadConfig({}).branding, dashboardUrl: 'https://bank.example/dashboard' }), createLogger('silent')),
    );
  });
  after(() => page.close());

  test('shows a customer-facing error with its status, message and code', async () => {
    const csrf = await page.answer(new CsrfRejected());
    assert.equal(csrf.status, 403);
    assert.match(csrf.text, /This form has expired/);
    assert.match(csrf.text, /csrf_rejected/);
    assert.equal((await page.answer(new BodyError(413, 'form too large'))).status, 413);
    assert.equal((await page.answer(new ConsentNotFound())).status, 404);
  });

  test('hides what a customer must not see behind a generic 500', async () => {
    const hidden = await page.answer(new TppStateError('TPP tpp-1 is suspended, not active'));
    assert.equal(hidden.status, 500);
    assert.doesNotMatch(hidden.text, /suspended/);
  });
});

test('the OAuth table turns a binding refusal into invalid_request, or invalid_authorization_details inside them', () => {
  const refused = new BindingRefused('unknown consent');
  const plain = toOAuthError(refused) as errors.InvalidRequest;
  assert.ok(plain instanceof errors.InvalidRequest);
  assert.equal(plain.error_description, 'unknown consent');
  const inDetails = toOAuthError(refused, 'authorization_details');
  assert.ok(inDetails instanceof errors.InvalidAuthorizationDetails);
  const other = new Error('database gone');
  assert.equal(toOAuthError(other), other, 'anything else is left for the provider to answer as server_error');
});
