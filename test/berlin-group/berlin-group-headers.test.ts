import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { BgError } from '../../src/berlin-group/bg-error.ts';
import { parseBgHeaders } from '../../src/berlin-group/bg-headers.ts';

const REQUEST_ID = '99391c7e-ad88-49ec-a2ad-99ddcb1f7721';

/** The FORMAT_ERROR messages a header set is refused with, as `path: text`. */
function refusals(headers: Record<string, string | string[] | undefined>): string[] {
  try {
    parseBgHeaders(headers);
  } catch (error) {
    assert.ok(error instanceof BgError);
    assert.equal(error.status, 400);
    return error.messages.map((message) => {
      assert.equal(message.code, 'FORMAT_ERROR');
      return `${message.path}: ${message.text}`;
    });
  }
  assert.fail('the headers were accepted');
}

describe('NextGenPSD2 request headers', () => {
  test('only X-Request-ID is required; the rest read as null, explicit authorisation as false', () => {
    assert.deepEqual(parseBgHeaders({ 'x-request-id': REQUEST_ID }), {
      requestId: REQUEST_ID,
      psuIpAddress: null,
      psuId: null,
      tppRedirectUri: null,
      tppNokRedirectUri: null,
      tppRedirectPreferred: null,
      tppDecoupledPreferred: null,
      tppExplicitAuthorisationPreferred: false,
    });
  });

  test('every header typed', () => {
    const headers = parseBgHeaders({
      'x-request-id': REQUEST_ID.toUpperCase(),
      'psu-ip-address': '2001:db8::1',
      'psu-id': 'anna.schmidt',
      'tpp-redirect-uri': 'https://tpp.example/cb?state=1',
      'tpp-nok-redirect-uri': 'https://tpp.example/nok',
      'tpp-redirect-preferred': 'false',
      'tpp-decoupled-preferred': 'true',
      'tpp-explicit-authorisation-preferred': 'true',
    });
    assert.deepEqual(headers, {
      requestId: REQUEST_ID.toUpperCase(),
      psuIpAddress: '2001:db8::1',
      psuId: 'anna.schmidt',
      tppRedirectUri: 'https://tpp.example/cb?state=1',
      tppNokRedirectUri: 'https://tpp.example/nok',
      tppRedirectPreferred: false,
      tppDecoupledPreferred: true,
      tppExplicitAuthorisationPreferred: true,
    });
    assert.equal(parseBgHeaders({ 'x-request-id': REQUEST_ID, 'psu-ip-address': '192.168.8.78' }).psuIpAddress, '192.168.8.78');
  });

  test('X-Request-ID missing, malformed, repeated or padded is a FORMAT_ERROR naming it', () => {
    assert.deepEqual(refusals({}), ['X-Request-ID: X-Request-ID is missing']);
    for (const bad of ['not-a-uuid', `${REQUEST_ID} `, `${REQUEST_ID}, ${REQUEST_ID}`, `{${REQUEST_ID}}`, REQUEST_ID.replaceAll('-', '')]) {
      assert.deepEqual(refusals({ 'x-request-id': bad }), ['X-Request-ID: X-Request-ID must be a UUID'], bad);
    }
    assert.deepEqual(refusals({ 'x-request-id': '' }), [
      'X-Request-ID: X-Request-ID must not be blank',
      'X-Request-ID: X-Request-ID must be a UUID',
    ]);
    assert.deepEqual(refusals({ 'x-request-id': [REQUEST_ID, REQUEST_ID] }), ['X-Request-ID: X-Request-ID must be one value']);
  });

  test('PSU-IP-Address must be an IPv4 or IPv6 address', () => {
    for (const bad of ['256.1.1.1', '1.2.3', 'localhost', '::g', '10.0.0.1, 10.0.0.2', '10.0.0.1\u0000']) {
      assert.deepEqual(refusals({ 'x-request-id': REQUEST_ID, 'psu-ip-address': bad }), [
        'PSU-IP-Address: PSU-IP-Address must be an IPv4 or IPv6 address',
      ]);
    }
    assert.deepEqual(refusals({ 'x-request-id': REQUEST_ID, 'psu-ip-address': ' ' }).length, 2);
  });

  test('redirect URIs must be absolute https without credentials or fragment, and not huge', () => {
    for (const bad of [
      'http://tpp.example/cb',
      '/cb',
      'https://user:pw@tpp.example/cb',
      'https://tpp.example/cb#frag',
      'javascript:alert(1)',
      `https://tpp.example/${'a'.repeat(3000)}`,
    ]) {
      const messages = refusals({ 'x-request-id': REQUEST_ID, 'tpp-redirect-uri': bad });
      assert.ok(
        messages.every((message) => message.startsWith('TPP-Redirect-URI: ')),
        bad,
      );
    }
    assert.deepEqual(refusals({ 'x-request-id': REQUEST_ID, 'tpp-nok-redirect-uri': 'http://x' }), [
      'TPP-Nok-Redirect-URI: TPP-Nok-Redirect-URI must be an absolute https URI without credentials or fragment',
    ]);
  });

  test('preferences are exactly "true" or "false"', () => {
    for (const bad of ['TRUE', '1', 'yes', 'true ', '']) {
      const messages = refusals({ 'x-request-id': REQUEST_ID, 'tpp-redirect-preferred': bad });
      assert.ok(messages.includes('TPP-Redirect-Preferred: TPP-Redirect-Preferred must be "true" or "false"'), bad);
    }
  });

  test('PSU-ID: not blank, not too long, no control characters', () => {
    assert.deepEqual(refusals({ 'x-request-id': REQUEST_ID, 'psu-id': 'a'.repeat(141) }), [
      'PSU-ID: PSU-ID must be at most 140 characters',
    ]);
    assert.deepEqual(refusals({ 'x-request-id': REQUEST_ID, 'psu-id': 'anna\u0000' }), [
      'PSU-ID: PSU-ID must not contain control characters',
    ]);
  });

  test('every faulty header is named at once', () => {
    const messages = refusals({ 'psu-ip-address': 'x', 'tpp-decoupled-preferred': 'maybe' });
    assert.deepEqual(
      messages.map((message) => message.split(':')[0]),
      ['X-Request-ID', 'PSU-IP-Address', 'TPP-Decoupled-Preferred'],
    );
  });
});
