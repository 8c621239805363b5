import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { type Adapter, type AdapterPayload, errors, Provider } from 'oidc-provider';
import { fetch } from 'undici';
import {
  AUTHORIZATION_REQUEST_ROUTES,
  ENGINE_VERSION_CHECKED,
  providerOf,
  replaceKeystore,
  replaceReplayCheck,
  replaceSessionRotation,
  setOwnTtl,
  currentSigningKey,
  extendGrantUntil,
  extraClientProperty,
  aroundGrant,
  dpopNonces,
} from '../../src/engine/engine-internals.ts';
import { CIBA_GRANT_TYPE } from '../../src/protocol/ciba.ts';

/**
 * Each reliance of src/engine/engine-internals.ts, exercised against the installed oidc-provider: an
 * upgrade that moves or changes one of them fails here rather than in production.
 */

const signingKey = async (kid: string): Promise<JWK> => ({
  ...(await exportJWK((await generateKeyPair('ES256', { extractable: true })).privateKey)),
  kid,
  alg: 'ES256',
  use: 'sig',
});

/** An adapter that remembers what the provider asked of it. */
const calls: { model: string; method: string; id: string; expiresIn?: number }[] = [];
const stored = new Map<string, AdapterPayload>();
class RecordingAdapter implements Adapter {
  readonly model: string;
  constructor(model: string) {
    this.model = model;
  }
  async upsert(id: string, payload: AdapterPayload, expiresIn?: number) {
    calls.push({ model: this.model, method: 'upsert', id, ...(expiresIn !== undefined && { expiresIn }) });
    stored.set(`${this.model}:${id}`, payload);
  }
  async find(id: string) {
    calls.push({ model: this.model, method: 'find', id });
    return stored.get(`${this.model}:${id}`);
  }
  async findByUid() {
    return undefined;
  }
  async findByUserCode() {
    return undefined;
  }
  async consume() {}
  async destroy(id: string) {
    stored.delete(`${this.model}:${id}`);
  }
  async revokeByGrantId() {}
}

describe('oidc-provider internals Assent relies on', () => {
  let provider: Provider;
  let server: Server;
  let issuer: string;
  const seen: { route?: string; isProvider?: boolean }[] = [];
  const jwks = async () => ((await (await fetch(`${issuer}/jwks`)).json()) as { keys: JWK[] }).keys.map((key) => key.kid);

  before(async () => {
    issuer = 'http://127.0.0.1';
    provider = new Provider(issuer, {
      adapter: RecordingAdapter,
      jwks: { keys: [await signingKey('first')] as never },
      features: {
        pushedAuthorizationRequests: { enabled: true },
        devInteractions: { enabled: false },
        ciba: {
          enabled: true,
          triggerAuthenticationDevice: async () => {},
          validateRequestContext: async () => {},
          verifyUserCode: async () => {},
        },
      },
      clients: [],
      extraClientMetadata: { properties: ['client_kind'] },
    });
    provider.use(async (ctx, next) => {
      const record: (typeof seen)[number] = { isProvider: providerOf(ctx) === provider };
      seen.push(record);
      await next();
      record.route = (ctx as unknown as { oidc?: { route?: string } }).oidc?.route;
    });
    server = createServer(provider.callback());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise((resolve) => server.close(resolve)));

  test(`the installed version is the one these were checked against (${ENGINE_VERSION_CHECKED})`, async () => {
    const { default: manifest } = await import('oidc-provider/package.json', { with: { type: 'json' } });
    assert.ok(
      (manifest as { version: string }).version.startsWith(`${ENGINE_VERSION_CHECKED}.`),
      `installed ${String((manifest as { version: string }).version)}: re-check src/engine/engine-internals.ts`,
    );
  });

  test('replaceKeystore changes the published JWKS of a running provider', async () => {
    assert.deepEqual(await jwks(), ['first']);
    replaceKeystore(provider, [await signingKey('second')]);
    assert.deepEqual(await jwks(), ['second']);
  });

  test('provider.use middleware sees the Provider as its Koa app, and the authorization request route names', async () => {
    seen.length = 0;
    await fetch(`${issuer}/auth?client_id=nobody`);
    await fetch(`${issuer}/request`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'client_id=nobody',
    });
    await fetch(`${issuer}/backchannel`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'client_id=nobody',
    });
    assert.ok(
      seen.every((record) => record.isProvider),
      'ctx.app is the Provider',
    );
    assert.deepEqual(new Set(seen.map((record) => record.route)), AUTHORIZATION_REQUEST_ROUTES);
  });

  test("dpopNonces is the provider's own DPoP nonce source, there only with a nonceSecret", () => {
    assert.equal(dpopNonces(provider), undefined);
    const secret = Buffer.alloc(32, 1);
    const withNonces = () => new Provider(issuer, { features: { dPoP: { enabled: true, nonceSecret: secret, requireNonce: () => true } } });
    const nonces = dpopNonces(withNonces())!;
    const next = nonces.nextChallenge();
    assert.match(next, /^[\w-]{43}$/);
    assert.equal(nonces.checkChallenge(next), true);
    assert.equal(nonces.checkChallenge(next.replace(/^./, (first) => (first === 'A' ? 'B' : 'A'))), false);
    assert.equal(dpopNonces(withNonces())!.nextChallenge(), next, 'another provider (instance) with the secret agrees');
  });

  test('replaceReplayCheck replaces the check the library calls', async () => {
    const asked: string[] = [];
    replaceReplayCheck(provider, async (iss, jti) => {
      asked.push(`${iss}:${jti}`);
      return false;
    });
    assert.equal(await provider.ReplayDetection.unique('iss', 'jti', Math.floor(Date.now() / 1000) + 60), false);
    assert.deepEqual(asked, ['iss:jti']);
  });

  test("replaceSessionRotation hands a reset Session's old id and save to the store, in place of the library's destroy", async () => {
    const replacing: string[] = [];
    replaceSessionRotation(provider, async (oldId, save) => {
      replacing.push(oldId);
      return save();
    });
    const session = new provider.Session();
    // The library's Session.save takes the TTL, which its typings leave out.
    const save = () => (session as unknown as { save(ttl: number): Promise<unknown> }).save(60);
    await save();
    const oldId = session.jti;
    assert.deepEqual(replacing, [], "a save that keeps its id is the library's own");
    session.resetIdentifier();
    await save();
    assert.notEqual(session.jti, oldId);
    assert.deepEqual(replacing, [oldId]);
    assert.ok(stored.has(`Session:${session.jti}`), 'the new row is upserted');
    assert.ok(stored.has(`Session:${oldId}`), "the library's destroy of the old id is left out");
    assert.ok(calls.some((call) => call.model === 'Session' && call.method === 'upsert' && call.id === session.jti));
  });

  test('setOwnTtl sets the expiry a Grant is saved with', async () => {
    const grant = new provider.Grant({ accountId: 'someone', clientId: 'nobody' });
    setOwnTtl(grant, 42);
    const id = await grant.save();
    assert.equal(calls.find((call) => call.model === 'Grant' && call.method === 'upsert' && call.id === id)?.expiresIn, 42);
  });

  test("currentSigningKey is the keystore's signer for an alg, never a verify-only key", async () => {
    replaceKeystore(provider, [{ ...(await signingKey('retired')), key_ops: ['verify'] }, await signingKey('signer')]);
    assert.equal(currentSigningKey(provider, 'ES256')?.kid, 'signer');
    assert.equal(currentSigningKey(provider, 'PS256'), undefined);
  });

  test("extendGrantUntil moves a stored Grant's end later, never earlier", async () => {
    const grant = new provider.Grant({ accountId: 'someone', clientId: 'nobody' });
    setOwnTtl(grant, 60);
    const id = await grant.save();
    const found = (await provider.Grant.find(id))!;
    const exp = (found as unknown as { exp: number }).exp;
    extendGrantUntil(found, exp - 30);
    assert.equal((found as unknown as { exp: number }).exp, exp);
    extendGrantUntil(found, exp + 100);
    await found.save();
    const upsert = calls.findLast((call) => call.model === 'Grant' && call.method === 'upsert' && call.id === id);
    assert.ok(upsert?.expiresIn !== undefined && upsert.expiresIn > 120, 'saved with the longer remaining TTL');
  });

  test('every Client.find reaches the adapter (suspension relies on it)', async () => {
    stored.set('Client:tpp-1', {
      client_id: 'tpp-1',
      client_secret: 'not-a-secret-but-long-enough-for-the-library',
      redirect_uris: ['https://tpp.example/cb'],
      id_token_signed_response_alg: 'ES256',
    } as AdapterPayload);
    const earlier = calls.filter((call) => call.model === 'Client' && call.id === 'tpp-1').length;
    assert.ok(await provider.Client.find('tpp-1'));
    assert.ok(await provider.Client.find('tpp-1'));
    assert.equal(calls.filter((call) => call.model === 'Client' && call.id === 'tpp-1').length - earlier, 2);
  });

  test('extraClientProperty reads extra client metadata off the loaded Client by its metadata name', async () => {
    stored.set('Client:rs-1', {
      client_id: 'rs-1',
      client_secret: 'not-a-secret-but-long-enough-for-the-library',
      redirect_uris: ['https://rs.example/cb'],
      id_token_signed_response_alg: 'ES256',
      client_kind: 'resource_server',
    } as AdapterPayload);
    const client = await provider.Client.find('rs-1');
    assert.equal(extraClientProperty(client!, 'client_kind'), 'resource_server');
    assert.equal(client!.metadata().client_kind, 'resource_server', 'the same value metadata() gives');
  });

  test("aroundGrant runs in place of the library's CIBA grant, after client authentication, with the parameters parsed", async () => {
    const secret = 'not-a-secret-but-long-enough-for-the-library';
    stored.set('Client:ciba-1', {
      client_id: 'ciba-1',
      client_secret: secret,
      grant_types: [CIBA_GRANT_TYPE],
      response_types: [],
      redirect_uris: [],
      backchannel_token_delivery_mode: 'poll',
      id_token_signed_response_alg: 'ES256',
    } as AdapterPayload);
    const seenBefore: { clientId?: string; authReqId?: unknown }[] = [];
    aroundGrant(provider, CIBA_GRANT_TYPE, async (ctx) => {
      seenBefore.push({ clientId: ctx.oidc.client?.clientId, authReqId: ctx.oidc.params?.auth_req_id });
      throw new errors.SlowDown();
    });
    const response = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`ciba-1:${secret}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: CIBA_GRANT_TYPE, auth_req_id: 'some-request' }).toString(),
    });
    assert.equal(((await response.json()) as { error: string }).error, 'slow_down');
    assert.deepEqual(seenBefore, [{ clientId: 'ciba-1', authReqId: 'some-request' }]);
  });
});
