import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { sql } from 'kysely';
import { fetch } from 'undici';
import { tlsAgent } from '../support/assent.ts';
import { useAssent } from '../support/fixture.ts';

describe('a failure inside the rate limits still answers in the protocol shape, never text/plain', () => {
  const assent = useAssent({ RATE_LIMIT_TOKEN: '100/60', RATE_LIMIT_PAR: '100/60', RATE_LIMIT_LOGIN: '100/60' });
  before(async () => {
    // The fault: the counters' table is gone, so every limited request fails inside the rate-limit step.
    await sql`drop table rate_limit`.execute(assent.db);
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
