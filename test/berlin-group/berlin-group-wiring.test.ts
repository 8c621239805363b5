import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { Router } from '@koa/router';
import Koa from 'koa';
import { pino } from 'pino';
import request from 'supertest';
import { bankCalendar } from '../../src/berlin-group/bg-bank-time.ts';
import {
  accessConsentDraftOf,
  consentCreatedBody,
  consentInformationBody,
  consentStatusBody,
} from '../../src/berlin-group/bg-consent-mapping.ts';
import { parseConsentRequest } from '../../src/berlin-group/bg-consent-request.ts';
import { bgEdgeRefusal, BgError, bgErrors } from '../../src/berlin-group/bg-error.ts';
import { type BgHeaderState, readBgHeaders } from '../../src/berlin-group/bg-headers.ts';
import { chooseScaApproach, createdLinks, scaApproachHeader } from '../../src/berlin-group/bg-links.ts';
import type { AccessConsent, ConsentState } from '../../src/berlin-group/bg-model.ts';
import { readJsonBody } from '../../src/http/json-body.ts';
import { refuseHostileInput } from '../../src/http/hostile-input.ts';

/**
 * The modules put together the way the integration mounts them (edge refusal, the one error handler, the
 * header step, parse -> draft -> service -> body), over an in-memory stand-in for the consents service: the
 * answers a TPP sees, and that hostile input never reaches a 5xx.
 */

const ISSUER = 'https://assent.example';

const CALENDAR = bankCalendar('Europe/Berlin');

function bgApp() {
  const consents = new Map<string, AccessConsent & ConsentState>();
  const app = new Koa();
  app.use(refuseHostileInput(bgEdgeRefusal));
  app.use(bgErrors(pino({ level: 'silent' })));
  const router = new Router<BgHeaderState>();
  router.post('/v1/consents', readBgHeaders, async (ctx) => {
    const headers = ctx.state.bgHeaders;
    const asked = parseConsentRequest(await readJsonBody(ctx), CALENDAR.dateOf(new Date()));
    const approach = chooseScaApproach(headers, { decoupled: true });
    const draft = accessConsentDraftOf(asked, headers, CALENDAR);
    const { standard, ...terms } = draft;
    const consent: AccessConsent & ConsentState = {
      ...terms,
      standard,
      id: randomUUID(),
      status: 'AwaitingAuthorisation',
      endedBy: null,
      statusUpdatedAt: new Date(),
      authorisations: headers.tppExplicitAuthorisationPreferred ? [] : [{ id: randomUUID(), stage: 'started' }],
    };
    consents.set(consent.id, consent);
    const resource = { service: 'AIS', consentId: consent.id } as const;
    const start = headers.tppExplicitAuthorisationPreferred
      ? ({ explicit: true } as const)
      : ({ explicit: false, approach, authorisationId: consent.authorisations[0]!.id } as const);
    ctx.status = 201;
    ctx.set({ ...scaApproachHeader(approach), Location: `${ISSUER}/v1/consents/${consent.id}` });
    ctx.body = consentCreatedBody(consent, createdLinks(resource, start, ISSUER));
  });
  const found = (id: string) => {
    const consent = consents.get(id);
    if (!consent) throw BgError.of('CONSENT_UNKNOWN', 'no such consent of this TPP', { addressed: 'path', path: 'consentId' });
    return consent;
  };
  router.get('/v1/consents/:consentId', readBgHeaders, (ctx) => {
    ctx.body = consentInformationBody(found(ctx.params.consentId!), CALENDAR);
  });
  router.get('/v1/consents/:consentId/status', readBgHeaders, (ctx) => {
    ctx.body = consentStatusBody(found(ctx.params.consentId!));
  });
  router.delete('/v1/consents/:consentId', readBgHeaders, (ctx) => {
    const consent = found(ctx.params.consentId!);
    consents.set(consent.id, { ...consent, status: 'Revoked', endedBy: 'tpp', statusUpdatedAt: new Date() });
    ctx.status = 204;
  });
  app.use(router.routes()).use(router.allowedMethods({ throw: true }));
  return app.callback();
}

/** The `_links` of an answer's body. */
function linksOf(answer: { _links: Record<string, { href: string }> }) {
  const { _links: links } = answer;
  return links;
}

const body = {
  access: { accounts: [], balances: [] },
  recurringIndicator: true,
  validUntil: '9999-12-31',
  frequencyPerDay: 4,
  combinedServiceIndicator: false,
};

describe('a Berlin Group consent through the composed modules', () => {
  test('created (REDIRECT, implicit authorisation), read, terminated by the TPP', async () => {
    const server = bgApp();
    const id = randomUUID();
    const created = await request(server)
      .post('/v1/consents')
      .set({ 'X-Request-ID': id, 'TPP-Redirect-URI': 'https://tpp.example/cb', 'PSU-IP-Address': '192.0.2.1' })
      .send(body);
    assert.equal(created.status, 201);
    assert.equal(created.headers['x-request-id'], id);
    assert.equal(created.headers['aspsp-sca-approach'], 'REDIRECT');
    assert.equal(created.body.consentStatus, 'received');
    const consentId = created.body.consentId as string;
    assert.deepEqual(Object.keys(linksOf(created.body)), ['scaOAuth', 'scaStatus', 'self', 'status']);
    assert.equal(linksOf(created.body).scaOAuth?.href, `${ISSUER}/.well-known/oauth-authorization-server`);

    const read = await request(server).get(`/v1/consents/${consentId}`).set('X-Request-ID', randomUUID());
    assert.equal(read.status, 200);
    assert.deepEqual(read.body.access, { accounts: [], balances: [] });
    assert.equal(read.body.consentStatus, 'received');
    assert.equal(read.body.frequencyPerDay, 4);
    assert.notEqual(read.body.validUntil, '9999-12-31', 'adjusted to the bank’s latest date');

    const deleted = await request(server).delete(`/v1/consents/${consentId}`).set('X-Request-ID', randomUUID());
    assert.equal(deleted.status, 204);
    const status = await request(server).get(`/v1/consents/${consentId}/status`).set('X-Request-ID', randomUUID());
    assert.deepEqual(status.body, { consentStatus: 'terminatedByTpp' });
  });

  test('DECOUPLED and explicit start change the links', async () => {
    const server = bgApp();
    const decoupled = await request(server)
      .post('/v1/consents')
      .set({ 'X-Request-ID': randomUUID(), 'PSU-ID': 'anna', 'TPP-Decoupled-Preferred': 'true' })
      .send(body);
    assert.equal(decoupled.status, 201);
    assert.equal(decoupled.headers['aspsp-sca-approach'], 'DECOUPLED');
    assert.deepEqual(Object.keys(linksOf(decoupled.body)), ['scaStatus', 'self', 'status']);
    const explicit = await request(server)
      .post('/v1/consents')
      .set({ 'X-Request-ID': randomUUID(), 'TPP-Redirect-URI': 'https://tpp.example/cb', 'TPP-Explicit-Authorisation-Preferred': 'true' })
      .send(body);
    assert.deepEqual(Object.keys(linksOf(explicit.body)), ['startAuthorisation', 'self', 'status']);
  });

  test('the refusals a TPP sees', async () => {
    const server = bgApp();
    const missingId = await request(server).post('/v1/consents').send(body);
    assert.equal(missingId.status, 400);
    assert.deepEqual(missingId.body.tppMessages, [
      { category: 'ERROR', code: 'FORMAT_ERROR', path: 'X-Request-ID', text: 'X-Request-ID is missing' },
    ]);
    const noRedirect = await request(server).post('/v1/consents').set('X-Request-ID', randomUUID()).send(body);
    assert.equal(noRedirect.body.tppMessages[0].path, 'TPP-Redirect-URI');
    const unknown = await request(server).get(`/v1/consents/${randomUUID()}`).set('X-Request-ID', randomUUID());
    assert.equal(unknown.status, 403);
    assert.equal(unknown.body.tppMessages[0].code, 'CONSENT_UNKNOWN');
  });

  test('hostile bodies and headers never reach a 5xx', async () => {
    const server = bgApp();
    const bodies: unknown[] = [
      null,
      [],
      'x',
      1e308,
      { ...body, access: null },
      { ...body, access: { accounts: [{ iban: 'DE89370400440532013000'.repeat(1000) }] } },
      { ...body, frequencyPerDay: 1e308 },
      { ...body, frequencyPerDay: -0 },
      { ...body, validUntil: '2026-02-30' },
      { ...body, constructor: { prototype: { polluted: true } } },
      JSON.parse('{"__proto__":{"polluted":true}}'),
      { ...body, access: { accounts: Array.from({ length: 500 }, () => ({ iban: 'DE89370400440532013000' })) } },
    ];
    for (const sent of bodies) {
      const answer = await request(server)
        .post('/v1/consents')
        .set({ 'X-Request-ID': randomUUID(), 'TPP-Redirect-URI': 'https://tpp.example/cb', 'content-type': 'application/json' })
        .send(JSON.stringify(sent));
      assert.ok(answer.status < 500, `${JSON.stringify(sent)?.slice(0, 80)}: ${answer.status}`);
      assert.equal(answer.status, 400, JSON.stringify(sent)?.slice(0, 80));
      assert.equal(answer.body.tppMessages[0].category, 'ERROR');
    }
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    const huge = await request(server)
      .post('/v1/consents')
      .set({ 'X-Request-ID': randomUUID(), 'content-type': 'application/json' })
      .send(JSON.stringify({ ...body, access: { accounts: Array.from({ length: 50_000 }, () => ({ iban: 'DE89370400440532013000' })) } }));
    assert.equal(huge.status, 413, 'over the body limit: 413 without a body');
    assert.equal(huge.text, '');
    for (const raw of ['{"access":', '\u0000', '{"a":"\ud800"}', `${'['.repeat(100)}${']'.repeat(100)}`]) {
      const answer = await request(server)
        .post('/v1/consents')
        .set({ 'X-Request-ID': randomUUID(), 'content-type': 'application/json' })
        .send(raw);
      assert.equal(answer.status, 400, raw.slice(0, 20));
    }
  });
});
