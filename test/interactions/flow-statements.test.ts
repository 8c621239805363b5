import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { tlsAgent } from '../support/assent.ts';
import { CustomerAgent } from '../support/customer-agent.ts';
import { createTestCustomer, oneTimeCode } from '../support/customers.ts';
import { statementsDuring } from '../support/statements.ts';
import { pushAuthorizationRequest, redeemCode } from '../support/tpp.ts';
import { useAssent, useTpp } from '../support/fixture.ts';

/**
 * The database round trips of a complete flow (PAR, sign-in, one-time code, consent, token), step by
 * step, pinned: a change that adds a round trip to a step must say so here. The event push's poller
 * runs on its own timer and is left out.
 */

const background = (text: string) => /consent_event/.test(text);
const listed = (statements: string[]) => statements.map((text, i) => `${i + 1}. ${text.slice(0, 160)}`).join('\n');

describe('a complete flow, statement by statement', () => {
  const assent = useAssent();
  const tpp = useTpp(assent);

  /** One flow; each step's statements checked against `expected` when given (the first flow also loads the client into the cache). */
  async function flow(expected?: Record<string, number>) {
    const customer = await createTestCustomer(assent.db);
    const counted: Record<string, number> = {};
    const step = async <T>(name: string, run: () => Promise<T>) => {
      let value: T | undefined;
      const statements = (
        await statementsDuring(async () => {
          value = await run();
        })
      ).filter((text) => !background(text));
      counted[name] = statements.length;
      if (expected) assert.equal(statements.length, expected[name], `${name}:\n${listed(statements)}`);
      return value!;
    };
    const dpop = oidc.getDPoPHandle(tpp.config, await oidc.randomDPoPKeyPair('ES256'));
    const request = await step('PAR', () => pushAuthorizationRequest(tpp, {}, { DPoP: dpop }));
    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    const login = await step('authorization', () => browser.open(request.url));
    assert.match(login.body, /name="password"/);
    const otp = await step('password', () => browser.submit(login, 'login', { username: customer.username, password: customer.password }));
    const code = await oneTimeCode(customer);
    const consent = await step('one-time code', () => browser.submit(otp, 'otp', { code }));
    const done = await step('consent', () => browser.submit(consent, 'confirm'));
    assert.ok(done.url.searchParams.get('code'), done.url.toString());
    const tokens = await step('token', () => redeemCode(tpp, done.url, request, { dpop, idTokenExpected: true }));
    assert.equal(tokens.scope, 'openid accounts');
    return Object.values(counted).reduce((sum, count) => sum + count, 0);
  }

  test('PAR 8 (its DPoP nonce retry included), authorization 4, password 3, one-time code 8, consent 9 (a resumed login replaces its session id in one statement), token 8: 40 in all', async () => {
    await flow();
    assert.equal(await flow({ PAR: 8, authorization: 4, password: 3, 'one-time code': 8, consent: 9, token: 8 }), 40);
  });
});
