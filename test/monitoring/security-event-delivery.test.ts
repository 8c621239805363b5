import assert from 'node:assert/strict';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { compactVerify, createLocalJWKSet, type JSONWebKeySet } from 'jose';
import { fetch } from 'undici';
import { issueCertificate } from '../../src/http/dev-pki.ts';
import { SECURITY_EVENT_MEDIA_TYPE, SECURITY_EVENT_TYP } from '../../src/monitoring/security-event-delivery.ts';
import { type TestAssent, startTestAssent, tlsAgent } from '../support/assent.ts';
import { runAdmin } from '../support/onboarding.ts';
import { createTestTpp } from '../support/tpp.ts';

interface Received {
  contentType: string | undefined;
  body: string;
}

/** The deliveries among `received` that carry `event` (other events, e.g. of set-up, may arrive too). */
const deliveriesOf = (received: Received[], event: string) =>
  received.filter(
    (entry) =>
      entry.body.split('.').length === 3 &&
      (JSON.parse(Buffer.from(entry.body.split('.')[1]!, 'base64url').toString()) as { event?: string }).event === event,
  );

describe("security events delivered to the bank's SIEM (SECURITY_EVENTS_URL)", () => {
  let assent: TestAssent;
  let receiver: https.Server;
  const received: Received[] = [];
  let failFirst = true;

  before(async () => {
    // The receiver's certificate comes from Assent's dev CA, which exists once Assent has started:
    // listen first (for the URL), install the certificate after.
    receiver = https.createServer({}, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        received.push({ contentType: req.headers['content-type'], body: Buffer.concat(chunks).toString('utf8') });
        // The first delivery fails, as a SIEM being restarted would: the event must come again.
        if (failFirst) {
          failFirst = false;
          res.writeHead(503).end();
        } else {
          res.writeHead(202).end();
        }
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const { port } = receiver.address() as AddressInfo;
    assent = await startTestAssent({ OUTBOUND_ALLOWED_HOSTS: 'localhost', SECURITY_EVENTS_URL: `https://localhost:${port}/siem/events` });
    const pair = await issueCertificate(assent.ca, { subject: 'CN=localhost', dnsNames: ['localhost'], usage: 'server' });
    receiver.setSecureContext({ cert: pair.certPem, key: pair.keyPem });
  });
  after(async () => {
    await assent?.stop();
    receiver.closeAllConnections();
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  test("an incident action arrives as a JWS signed with a key of Assent's JWKS, retried after the receiver failed", async () => {
    const tpp = await createTestTpp(assent);
    await runAdmin(assent, ['tpp:throttle', tpp.clientId, '--limit', '100', '--reason', 'noisy polling']);
    for (let waited = 0; deliveriesOf(received, 'tpp.throttled').length < 2 && waited < 30_000; waited += 200) await sleep(200);
    const deliveries = deliveriesOf(received, 'tpp.throttled');
    assert.equal(deliveries.length, 2, 'the failed first delivery was retried once, then accepted');
    assert.equal(deliveries[0]!.body, deliveries[1]!.body, 'the retry carries the same signed event');
    assert.equal(deliveries[1]!.contentType, SECURITY_EVENT_MEDIA_TYPE);

    const jwks = (await (await fetch(`${assent.issuer}/jwks`, { dispatcher: tlsAgent(assent.ca.certPem) })).json()) as JSONWebKeySet;
    const { payload, protectedHeader } = await compactVerify(deliveries[1]!.body, createLocalJWKSet(jwks));
    assert.equal(protectedHeader.typ, SECURITY_EVENT_TYP);
    const claims = JSON.parse(new TextDecoder().decode(payload)) as Record<string, unknown>;
    assert.equal(claims.iss, assent.issuer);
    assert.equal(claims.event, 'tpp.throttled');
    assert.equal(claims.clientId, tpp.clientId);
    assert.equal(claims.reason, 'noisy polling');
    assert.equal(typeof claims.jti, 'string');
  });
});
