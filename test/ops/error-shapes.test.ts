import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { fetch } from 'undici';
import { type TestAssent, startTestAssent, tlsAgent } from '../support/assent.ts';

describe('a failure inside the rate limits still answers in the protocol shape, never text/plain', () => {
  let assent: TestAssent;
  before(async () => {
    assent = await startTestAssent({ RATE_LIMIT_TOKEN: '100/60', RATE_LIMIT_PAR: '100/60', RATE_LIMIT_LOGIN: '100/60' });
    // The fault: the counters' table is gone, so every limited request fails inside the rate-limit step.
    await sql`drop table rate_limit`.execute(assent.db);
  });
  after(async () => {
    await assent?.stop();
  });

  // The same Accept everywhere: the shape follows the route (who calls it), not content negotiation.
  const post = (path: string) =>
    fetch(`https://localhost:${assent.port}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: '*/*' },
      body: 'grant_type=client_credentials&client_id=nobody',
      dispatcher: tlsAgent(assent.ca.certPem),
    });

  for (const path of ['/token', '/request']) {
    test(`${path}: 500 as OAuth JSON`, async () => {
      const response = await post(path);
      assert.equal(response.status, 500);
      assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
      assert.deepEqual(await response.json(), { error: 'server_error', error_description: 'an unexpected error occurred' });
    });
  }

  test('a sign-in page: 500 as the styled error page', async () => {
    const response = await post('/interaction/some-uid/login');
    assert.equal(response.status, 500);
    assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(await response.text(), /An unexpected error occurred/);
  });
});
