import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { ACCOUNT_ACCESS, ACCOUNT_ACCESS_V4, type ApiResponse } from '../support/consent-api.ts';
import { useAssent, useConsentApi, useTpp } from '../support/fixture.ts';
import { runAdmin } from '../support/onboarding.ts';

/** The `RateLimit` header's remaining quota and seconds to reset, or undefined when absent. */
const rateLimitOf = (response: ApiResponse) => {
  const match = /^"tpp";r=(\d+);t=(\d+)$/.exec(response.headers.get('ratelimit') ?? '');
  return match ? { remaining: Number(match[1]), reset: Number(match[2]) } : undefined;
};

/**
 * UK OB v4.0.1's optional rate-limit headers (RateLimit-Policy, RateLimit) on the v4.0 consent API, for
 * a TPP under the operator's throttle; v3.1 and unthrottled TPPs get none.
 */
describe('UK OB v4.0.1 rate-limit headers', () => {
  const assent = useAssent();
  const throttled = useConsentApi(assent, useTpp(assent));
  const free = useConsentApi(assent, useTpp(assent));
  before(async () => {
    await runAdmin(assent, ['tpp:throttle', throttled.tpp.clientId, '--limit', '3', '--window-seconds', '600', '--reason', 'test']);
  });

  test('each v4.0 answer tells the quota left, down to the 429 (which keeps Retry-After); v3.1 and unthrottled TPPs get none', async () => {
    const path = `${ACCOUNT_ACCESS_V4}/${randomUUID()}`;
    const first = await throttled.call('GET', path);
    assert.equal(first.status, 404);
    assert.equal(first.headers.get('ratelimit-policy'), '"tpp";q=3;w=600');
    const quota = rateLimitOf(first);
    assert.equal(quota?.remaining, 2);
    assert.ok(quota.reset > 0 && quota.reset <= 600);

    const v3 = await throttled.call('GET', `${ACCOUNT_ACCESS}/${randomUUID()}`);
    assert.equal(v3.status, 404);
    assert.equal(v3.headers.get('ratelimit'), null, 'v3.1 defines no rate-limit headers');

    const last = await throttled.call('GET', path);
    assert.equal(last.status, 404, 'the third request of three is still answered');
    assert.equal(rateLimitOf(last)?.remaining, 0);

    const refused = await throttled.call('GET', path);
    assert.equal(refused.status, 429);
    assert.equal(rateLimitOf(refused)?.remaining, 0);
    assert.ok(Number(refused.headers.get('retry-after')) > 0);
    assert.equal((refused.body as { Errors: { ErrorCode: string }[] }).Errors[0]?.ErrorCode, 'U000');

    const unthrottled = await free.call('GET', path);
    assert.equal(unthrottled.status, 404);
    assert.equal(unthrottled.headers.get('ratelimit'), null);
    assert.equal(unthrottled.headers.get('ratelimit-policy'), null);
  });
});
