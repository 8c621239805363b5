import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BG_PREFIX, BG_ROUTES, BG_SERVED_OPERATIONS } from '../../src/berlin-group/routes.ts';
import { openApiPath } from '../../src/openapi/document.ts';
import { securityRequirements } from '../../src/openapi/security.ts';
import { credentialOf, ROUTES } from '../../src/protocol/routes.ts';

/** The Berlin Group's own operationIds, as its OpenAPI file v1.3.11 names them, and the templates of its paths. */
const EXPECTED = [
  ['createConsent', 'POST /v1/consents'],
  ['getConsentInformation', 'GET /v1/consents/{consentId}'],
  ['deleteConsent', 'DELETE /v1/consents/{consentId}'],
  ['getConsentStatus', 'GET /v1/consents/{consentId}/status'],
  ['startConsentAuthorisation', 'POST /v1/consents/{consentId}/authorisations'],
  ['getConsentAuthorisation', 'GET /v1/consents/{consentId}/authorisations'],
  ['getConsentScaStatus', 'GET /v1/consents/{consentId}/authorisations/{authorisationId}'],
  ['initiatePayment', 'POST /v1/payments/{paymentProduct}'],
  ['getPaymentInformation', 'GET /v1/payments/{paymentProduct}/{paymentId}'],
  ['cancelPayment', 'DELETE /v1/payments/{paymentProduct}/{paymentId}'],
  ['getPaymentInitiationStatus', 'GET /v1/payments/{paymentProduct}/{paymentId}/status'],
  ['startPaymentAuthorisation', 'POST /v1/payments/{paymentProduct}/{paymentId}/authorisations'],
  ['getPaymentInitiationAuthorisation', 'GET /v1/payments/{paymentProduct}/{paymentId}/authorisations'],
  ['getPaymentInitiationScaStatus', 'GET /v1/payments/{paymentProduct}/{paymentId}/authorisations/{authorisationId}'],
];

test('one row per Berlin Group operation, with its own operationId', () => {
  assert.deepEqual(
    BG_ROUTES.map((route) => [route.operationId, `${route.method} ${openApiPath(route.path)}`]),
    EXPECTED,
  );
});

test('every row: a TPP known by its eIDAS certificate with the role of the service, served by Assent under /v1', () => {
  for (const route of BG_ROUTES) {
    assert.ok(route.path.startsWith(`${BG_PREFIX}/`), route.path);
    assert.equal(route.servedBy, 'assent');
    assert.equal(route.caller, 'tpp');
    const role = route.path.startsWith('/v1/consents') ? 'PSP_AI' : 'PSP_PI';
    assert.deepEqual(credentialOf(route), { kind: 'eidas_certificate', role }, route.operationId);
    assert.deepEqual(securityRequirements(route, credentialOf(route)!), [{ mutualTLS: [] }]);
  }
});

test('the AIS consent rows and their authorisations are in the route table as they are; the others are not yet, and collide with none', () => {
  const served = new Set<string | undefined>(BG_SERVED_OPERATIONS);
  for (const route of BG_ROUTES.filter((candidate) => served.has(candidate.operationId)))
    assert.ok(ROUTES.includes(route), `${route.operationId} is in ROUTES`);
  assert.deepEqual(
    BG_ROUTES.filter((route) => served.has(route.operationId)).map((route) => route.operationId),
    [
      'createConsent',
      'getConsentInformation',
      'deleteConsent',
      'getConsentStatus',
      'startConsentAuthorisation',
      'getConsentAuthorisation',
      'getConsentScaStatus',
    ],
  );
  const others = ROUTES.filter((route) => !BG_ROUTES.includes(route));
  const keys = new Set(others.map((route) => `${route.method} ${route.path}`));
  const ids = new Set(others.map((route) => route.operationId));
  for (const route of BG_ROUTES) {
    assert.ok(!keys.has(`${route.method} ${route.path}`), `${route.method} ${route.path}`);
    assert.ok(!ids.has(route.operationId), route.operationId);
    if (!served.has(route.operationId)) assert.ok(!ROUTES.includes(route), `${route.operationId} is not served yet`);
  }
  assert.equal(new Set(BG_ROUTES.map((route) => `${route.method} ${route.path}`)).size, BG_ROUTES.length);
  assert.ok(
    others.every((route) => !route.path.startsWith(`${BG_PREFIX}/`)),
    'nothing else lives under /v1',
  );
});
