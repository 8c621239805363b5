import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { openSecret, sealSecret, SecretUnreadable } from '../../src/customers/secret-box.ts';
import { currentTotpCode, generateTotpSecret, matchTotpStep, otpauthUri, totpStep } from '../../src/customers/totp.ts';
import { createWorkLimiter } from '../../src/customers/work-limiter.ts';
import { createCsrf } from '../../src/http/csrf.ts';
import {
  assertPaymentUnchanged,
  DynamicLinkBroken,
  type LinkedPayment,
  paymentDigest,
  paymentDigestMatches,
} from '../../src/interactions/dynamic-linking.ts';

describe('TOTP secrets at rest (AES-256-GCM)', () => {
  const key = randomBytes(32);

  test('round-trips, and the stored form does not contain the secret', () => {
    const sealed = sealSecret(key, 'JBSWY3DPEHPK3PXP', 'customer-1');
    assert.ok(!sealed.includes('JBSWY3DPEHPK3PXP'));
    assert.notEqual(sealSecret(key, 'JBSWY3DPEHPK3PXP', 'customer-1'), sealed, 'a fresh IV each time');
    assert.equal(openSecret(key, sealed, 'customer-1'), 'JBSWY3DPEHPK3PXP');
  });

  test('refuses another key, another customer (moved ciphertext) and tampering', () => {
    const sealed = sealSecret(key, 'JBSWY3DPEHPK3PXP', 'customer-1');
    assert.throws(() => openSecret(randomBytes(32), sealed, 'customer-1'), SecretUnreadable);
    assert.throws(() => openSecret(key, sealed, 'customer-2'), SecretUnreadable);
    const [version, iv, ciphertext, tag] = sealed.split('.');
    const flipped = Buffer.from(ciphertext!, 'base64url');
    flipped[0]! ^= 1;
    assert.throws(() => openSecret(key, [version, iv, flipped.toString('base64url'), tag].join('.'), 'customer-1'), SecretUnreadable);
    assert.throws(() => openSecret(key, 'v0.a.b.c', 'customer-1'), SecretUnreadable);
  });
});

describe('TOTP (RFC 6238)', () => {
  const secret = generateTotpSecret();
  const now = Date.UTC(2026, 10, 25, 12, 0, 10);

  test('accepts the codes of one step either side of now and names their step', () => {
    const step = totpStep(now);
    assert.equal(matchTotpStep(secret, currentTotpCode(secret, now), now), step);
    assert.equal(matchTotpStep(secret, currentTotpCode(secret, now - 30_000), now), step - 1);
    assert.equal(matchTotpStep(secret, currentTotpCode(secret, now + 30_000), now), step + 1);
  });

  test("refuses codes two steps away, malformed codes and another secret's codes", () => {
    assert.equal(matchTotpStep(secret, currentTotpCode(secret, now - 60_000), now), undefined);
    assert.equal(matchTotpStep(secret, currentTotpCode(secret, now + 60_000), now), undefined);
    assert.equal(matchTotpStep(secret, '12345', now), undefined);
    assert.equal(matchTotpStep(secret, 'abcdef', now), undefined);
    // A random secret matches this code with probability 3e-6.
    assert.equal(matchTotpStep(generateTotpSecret(), currentTotpCode(secret, now), now), undefined);
  });

  test("the otpauth URI carries the issuer (the bank's name), the username and the secret", () => {
    const uri = new URL(otpauthUri(secret, 'alice', 'Example Bank'));
    assert.equal(uri.protocol, 'otpauth:');
    assert.equal(uri.searchParams.get('secret'), secret);
    assert.equal(uri.searchParams.get('issuer'), 'Example Bank');
    assert.match(decodeURIComponent(uri.pathname), /alice$/);
  });
});

describe('argon2 work limiter', () => {
  test('runs at most `concurrency` jobs at once and turns away what the queue cannot hold', async () => {
    const limiter = createWorkLimiter({ concurrency: 2, queue: 1 });
    let running = 0;
    let peak = 0;
    const releases: (() => void)[] = [];
    const job = () =>
      limiter.run(async () => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise<void>((resolve) => releases.push(resolve));
        running -= 1;
      });
    const jobs = [job(), job(), job()];
    assert.deepEqual(await job(), { ran: false }, 'the fourth is turned away at once');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(releases.length, 2, 'the third job waits');
    while (releases.length > 0) {
      releases.shift()!();
      await new Promise((resolve) => setImmediate(resolve));
    }
    await Promise.all(jobs);
    assert.equal(peak, 2);
    assert.deepEqual(await limiter.run(async () => 'after'), { ran: true, value: 'after' });
  });

  test('a failing job frees its slot', async () => {
    const limiter = createWorkLimiter({ concurrency: 1, queue: 0 });
    await assert.rejects(
      limiter.run(async () => {
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.deepEqual(await limiter.run(async () => 'ran'), { ran: true, value: 'ran' });
  });
});

describe('CSRF tokens', () => {
  test('bound to the interaction and verified with every current key', () => {
    const csrf = createCsrf(['new-key', 'old-key']);
    const token = csrf.tokenFor('uid-1');
    assert.ok(csrf.matches('uid-1', token));
    assert.ok(!csrf.matches('uid-2', token));
    assert.ok(!csrf.matches('uid-1', undefined));
    assert.ok(!csrf.matches('uid-1', ''));
    assert.ok(!csrf.matches('uid-1', `${token}x`));
    assert.ok(
      csrf.matches('uid-1', createCsrf(['old-key']).tokenFor('uid-1')),
      'tokens of a rotated-out key still verify while it is listed',
    );
    assert.ok(!createCsrf(['other']).matches('uid-1', token));
  });
});

describe('PSD2 dynamic linking digest', () => {
  const payment: LinkedPayment = {
    consentId: 'pcn-1',
    amount: '125.50',
    currency: 'GBP',
    payee: { name: 'ACME Ltd', schemeName: 'UK.OBIE.SortCodeAccountNumber', identification: '40400412345678' },
  };

  test('matches the payment it was made for', () => {
    const digest = paymentDigest(payment);
    assert.ok(paymentDigestMatches(digest, payment));
    assert.doesNotThrow(() => assertPaymentUnchanged(digest, { ...payment, payee: { ...payment.payee } }));
  });

  test('any change of amount, currency, payee or consent refuses authorisation', () => {
    const digest = paymentDigest(payment);
    const changed: LinkedPayment[] = [
      { ...payment, amount: '125.51' },
      { ...payment, currency: 'EUR' },
      { ...payment, consentId: 'pcn-2' },
      { ...payment, payee: { ...payment.payee, name: 'ACME Ltd.' } },
      { ...payment, payee: { ...payment.payee, identification: '40400487654321' } },
      { ...payment, payee: { ...payment.payee, schemeName: 'UK.OBIE.IBAN' } },
    ];
    for (const other of changed) {
      assert.ok(!paymentDigestMatches(digest, other), JSON.stringify(other));
      assert.throws(() => assertPaymentUnchanged(digest, other), DynamicLinkBroken);
    }
    assert.ok(!paymentDigestMatches('', payment));
  });
});
