import assert from 'node:assert/strict';
import { randomUUID, type webcrypto } from 'node:crypto';
import { before, describe, test } from 'node:test';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, SignJWT } from 'jose';
import * as oidc from 'openid-client';
import { fetch } from 'undici';
import { auditHistory } from '../../src/audit/audit-trail.ts';
import { DISCOVERY_PATH, OAUTH_METADATA_PATH } from '../../src/protocol/routes.ts';
import { SCOPE, SCOPES } from '../../src/protocol/scopes.ts';
import { signDevSoftwareStatement } from '../../src/tpp/dev-directory.ts';
import { getClientDisplay, getTppProfile } from '../../src/tpp/tpp-service.ts';
import { tlsAgent } from '../support/assent.ts';
import { CustomerAgent } from '../support/customer-agent.ts';
import { createTestCustomer } from '../support/customers.ts';
import {
  callRegistration,
  dpopClientMetadata,
  issueSsa,
  issueSsaWithCli,
  type OnboardingKit,
  tppFromRegistration,
} from '../support/onboarding.ts';
import { createTestTpp, fetchVia, pushAuthorizationRequest, redeemCode } from '../support/tpp.ts';
import { useAssent } from '../support/fixture.ts';

describe('TPP onboarding by dynamic client registration with a software statement', () => {
  let kit: OnboardingKit;

  const assent = useAssent();
  before(async () => {
    kit = await issueSsa(assent);
  });

  async function storedCounts() {
    const clients = await assent.db
      .selectFrom('oidc_model')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('model', '=', 'Client')
      .executeTakeFirstOrThrow();
    const tpps = await assent.db
      .selectFrom('tpp')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    const uses = await assent.db
      .selectFrom('software_statement_use')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .executeTakeFirstOrThrow();
    return { clients: Number(clients.n), tpps: Number(tpps.n), uses: Number(uses.n) };
  }

  /** Registers with a fresh CLI statement (statements are single-use) and the given metadata changes. */
  async function attempt(extra: Record<string, unknown>, statement?: string) {
    const fresh = statement === undefined ? await issueSsa(assent) : kit;
    return callRegistration(assent, fresh.agent, {
      json: dpopClientMetadata(fresh, { ...(statement !== undefined && { software_statement: statement }), ...extra }),
    });
  }

  test('a TPP onboards with openid-client and only a CLI-issued statement, then gets tokens', async () => {
    const tppKit = await issueSsaWithCli(assent, { name: 'Acme Budgeting', roles: 'AISP,PISP' });
    const clientAuth = oidc.PrivateKeyJwt({ key: tppKit.privateKey, kid: tppKit.privateJwk.kid! });
    const registered = await oidc.dynamicClientRegistration(
      new URL(assent.issuer),
      dpopClientMetadata(tppKit) as Partial<oidc.ClientMetadata>,
      clientAuth,
      {
        [oidc.customFetch]: fetchVia(tppKit.agent),
      },
    );
    const metadata = registered.clientMetadata();
    assert.equal(metadata.client_name, 'Acme Budgeting');
    assert.equal(metadata.scope, 'openid accounts payments grant_management_query grant_management_revoke');
    assert.equal(metadata.software_id, tppKit.softwareId);
    assert.equal(metadata.software_statement, tppKit.softwareStatement);
    assert.equal(typeof metadata.registration_access_token, 'string');
    assert.equal(metadata.registration_client_uri, `${assent.issuer}/register/${registered.clientMetadata().client_id}`);

    const profile = await getTppProfile(assent.db, metadata.client_id);
    assert.deepEqual(
      { name: profile?.name, roles: profile?.roles, status: profile?.status, orgId: profile?.orgId, softwareId: profile?.softwareId },
      { name: 'Acme Budgeting', roles: ['AISP', 'PISP'], status: 'active', orgId: tppKit.orgId, softwareId: tppKit.softwareId },
    );
    assert.deepEqual(await getClientDisplay(assent.db, metadata.client_id), { name: 'Acme Budgeting', logoUri: null, bankOwn: false });
    const history = await auditHistory(assent.db, 'tpp', metadata.client_id);
    assert.deepEqual(
      history.map((event) => event.event),
      ['tpp.registered'],
    );

    const tpp = await tppFromRegistration(assent, tppKit, metadata.client_id);
    const dpop = oidc.getDPoPHandle(tpp.config, await oidc.randomDPoPKeyPair('ES256'));
    const machine = await oidc.clientCredentialsGrant(tpp.config, { scope: 'accounts' }, { DPoP: dpop });
    assert.equal(machine.token_type.toLowerCase(), 'dpop');

    const customer = await createTestCustomer(assent.db);
    const request = await pushAuthorizationRequest(tpp, { scope: 'openid payments' }, { DPoP: dpop });
    const callback = await new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer).authorize(request.url, customer);
    const tokens = await redeemCode(tpp, callback, request, { dpop });
    assert.equal(tokens.claims()?.sub, customer.id);
    assert.equal((await oidc.tokenIntrospection(tpp.config, tokens.access_token)).scope, 'openid payments');

    await assert.rejects(
      oidc.clientCredentialsGrant(tpp.config, { scope: 'fundsconfirmations' }, { DPoP: dpop }),
      (error: oidc.ResponseBodyError) => error.error === 'invalid_scope',
      'a scope outside the roles of the statement is refused',
    );
  });

  test('the UK Open Banking form: a JWT signed by the TPP carrying the statement', async () => {
    const tppKit = await issueSsa(assent, { roles: 'CBPII' });
    const now = Math.floor(Date.now() / 1000);
    const sign = (key: webcrypto.CryptoKey, kid: string) =>
      new SignJWT(dpopClientMetadata(tppKit))
        .setProtectedHeader({ alg: 'PS256', kid, typ: 'JWT' })
        .setIssuer(tppKit.softwareId)
        .setAudience(assent.issuer)
        .setIssuedAt(now)
        .setExpirationTime(now + 300)
        .setJti(randomUUID())
        .sign(key);

    const stranger = await generateKeyPair('PS256');
    const forged = await callRegistration(assent, tppKit.agent, { jwt: await sign(stranger.privateKey, tppKit.privateJwk.kid!) });
    assert.equal(forged.status, 400);
    assert.equal(forged.body.error, 'invalid_client_metadata');
    assert.match(String(forged.body.error_description), /does not verify/);

    const signed = await callRegistration(assent, tppKit.agent, { jwt: await sign(tppKit.privateKey, tppKit.privateJwk.kid!) });
    assert.equal(signed.status, 201, JSON.stringify(signed.body));
    assert.equal(signed.body.scope, 'openid fundsconfirmations grant_management_query grant_management_revoke');
    assert.equal(signed.body.software_id, tppKit.softwareId);
  });

  test('tls_client_auth: the registered subject must match the certificate the registration came over', async () => {
    const tppKit = await issueSsa(assent);
    const tlsMetadata = {
      token_endpoint_auth_method: 'tls_client_auth',
      token_endpoint_auth_signing_alg: undefined,
      dpop_bound_access_tokens: undefined,
      tls_client_certificate_bound_access_tokens: true,
    };
    const wrong = await callRegistration(assent, tppKit.agent, {
      json: dpopClientMetadata(tppKit, { ...tlsMetadata, tls_client_auth_subject_dn: 'CN=someone-else,O=Other,C=GB' }),
    });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body.error, 'invalid_client_metadata');
    assert.match(String(wrong.body.error_description), /certificate/);

    const right = await callRegistration(assent, tppKit.agent, {
      json: dpopClientMetadata(tppKit, { ...tlsMetadata, tls_client_auth_subject_dn: tppKit.subjectDn }),
    });
    assert.equal(right.status, 201, JSON.stringify(right.body));
    const config = new oidc.Configuration(
      (
        await oidc.discovery(new URL(assent.issuer), 'x', undefined, undefined, { [oidc.customFetch]: fetchVia(tppKit.agent) })
      ).serverMetadata(),
      String(right.body.client_id),
      {},
      oidc.TlsClientAuth(),
    );
    config[oidc.customFetch] = fetchVia(tppKit.agent);
    const granted = await oidc.clientCredentialsGrant(config, { scope: 'payments' });
    assert.equal(granted.token_type.toLowerCase(), 'bearer');
    assert.ok((await oidc.tokenIntrospection(config, granted.access_token)).cnf, 'the token is bound to the certificate');
  });

  describe('every refusal carries its RFC 7591 error code and stores nothing', () => {
    const cases: [string, () => Promise<{ status: number; body: Record<string, unknown> }>, string, RegExp][] = [];
    const refuse = (
      name: string,
      run: () => Promise<{ status: number; body: Record<string, unknown> }>,
      code: string,
      description: RegExp,
    ) => cases.push([name, run, code, description]);

    refuse('missing software statement', () => attempt({ software_statement: undefined }), 'invalid_software_statement', /required/);
    refuse('software statement that is not a JWT', () => attempt({}, 'not-a-jwt'), 'invalid_software_statement', /not a JWT/);
    refuse(
      'bad signature',
      async () => {
        const [header, payload, signature] = kit.softwareStatement.split('.');
        const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as Record<string, unknown>;
        const tampered = Buffer.from(JSON.stringify({ ...claims, software_roles: ['AISP', 'PISP', 'CBPII'] })).toString('base64url');
        return attempt({}, `${header}.${tampered}.${signature}`);
      },
      'invalid_software_statement',
      /signature/,
    );
    refuse(
      'untrusted issuer',
      async () => {
        const rogue = await generateKeyPair('PS256');
        const now = Math.floor(Date.now() / 1000);
        const claims = JSON.parse(Buffer.from(kit.softwareStatement.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
        const statement = await new SignJWT({ ...claims, jti: randomUUID() })
          .setProtectedHeader({ alg: 'PS256', kid: await calculateJwkThumbprint(await exportJWK(rogue.publicKey)) })
          .setIssuer('Rogue Directory')
          .setIssuedAt(now)
          .setExpirationTime(now + 600)
          .sign(rogue.privateKey);
        return attempt({}, statement);
      },
      'unapproved_software_statement',
      /not a trusted directory/,
    );
    refuse(
      'expired statement',
      async () => {
        const claims = JSON.parse(Buffer.from(kit.softwareStatement.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
        const { iss: _iss, iat: _iat, exp: _exp, jti: _jti, ...rest } = claims;
        return attempt(
          {},
          await signDevSoftwareStatement(assent.dataDir, rest, { issuedAt: Math.floor(Date.now() / 1000) - 7200, lifetimeSeconds: 3600 }),
        );
      },
      'invalid_software_statement',
      /expired/,
    );
    refuse(
      'statement issued in the future',
      async () => {
        const claims = JSON.parse(Buffer.from(kit.softwareStatement.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
        const { iss: _iss, iat: _iat, exp: _exp, jti: _jti, ...rest } = claims;
        return attempt({}, await signDevSoftwareStatement(assent.dataDir, rest, { issuedAt: Math.floor(Date.now() / 1000) + 3600 }));
      },
      'invalid_software_statement',
      /future/,
    );
    refuse(
      'statement without the roles claim',
      async () => {
        const claims = JSON.parse(Buffer.from(kit.softwareStatement.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
        const { iss: _iss, iat: _iat, exp: _exp, jti: _jti, software_roles: _roles, ...rest } = claims;
        return attempt({}, await signDevSoftwareStatement(assent.dataDir, rest));
      },
      'invalid_software_statement',
      /software_roles/,
    );
    refuse(
      'statement signed with RS256',
      async () => {
        const claims = JSON.parse(Buffer.from(kit.softwareStatement.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
        const rsa = await generateKeyPair('RS256');
        const statement = await new SignJWT({ ...claims, jti: randomUUID() }).setProtectedHeader({ alg: 'RS256' }).sign(rsa.privateKey);
        return attempt({}, statement);
      },
      'invalid_software_statement',
      /PS256 or ES256/,
    );
    refuse(
      'redirect_uri not in the statement',
      () => attempt({ redirect_uris: ['https://evil.example/callback'] }),
      'invalid_redirect_uri',
      /software_redirect_uris/,
    );
    refuse(
      'no redirect_uris (only a TPP known by its eIDAS certificate goes without: its consents carry theirs)',
      () => attempt({ redirect_uris: [] }),
      'invalid_redirect_uri',
      /non-empty/,
    );
    refuse(
      'http redirect_uri',
      async () => {
        const httpKit = await issueSsa(assent, { redirectUris: ['http://acme.example/callback'] });
        return callRegistration(assent, httpKit.agent, {
          json: dpopClientMetadata(httpKit, { redirect_uris: ['http://acme.example/callback'] }),
        });
      },
      'invalid_redirect_uri',
      /https/,
    );
    refuse(
      'client_secret_basic',
      () => attempt({ token_endpoint_auth_method: 'client_secret_basic' }),
      'invalid_client_metadata',
      /token_endpoint_auth_method/,
    );
    refuse('none', () => attempt({ token_endpoint_auth_method: 'none' }), 'invalid_client_metadata', /token_endpoint_auth_method/);
    refuse(
      'RS256 client assertions',
      () => attempt({ token_endpoint_auth_signing_alg: 'RS256' }),
      'invalid_client_metadata',
      /token_endpoint_auth_signing_alg/,
    );
    refuse(
      'RS256 request objects',
      () => attempt({ request_object_signing_alg: 'RS256' }),
      'invalid_client_metadata',
      /request_object_signing_alg/,
    );
    refuse('implicit grant', () => attempt({ grant_types: ['authorization_code', 'implicit'] }), 'invalid_client_metadata', /implicit/);
    refuse(
      'scope beyond the roles',
      async () => {
        const aisp = await issueSsa(assent, { roles: 'AISP' });
        return callRegistration(assent, aisp.agent, { json: dpopClientMetadata(aisp, { scope: 'openid accounts payments' }) });
      },
      'invalid_client_metadata',
      /payments/,
    );
    refuse(
      'bearer tokens (no sender constraint)',
      () => attempt({ dpop_bound_access_tokens: undefined }),
      'invalid_client_metadata',
      /sender-constrained/,
    );
    refuse(
      'jwks_uri at 127.0.0.1',
      () => attempt({ jwks_uri: 'https://127.0.0.1/jwks.json' }),
      'invalid_client_metadata',
      /forbidden address/,
    );
    refuse(
      'jwks_uri at the cloud metadata address',
      () => attempt({ jwks_uri: 'https://169.254.169.254/latest/meta-data/jwks' }),
      'invalid_client_metadata',
      /forbidden address/,
    );
    refuse(
      'jwks_uri at a private address',
      () => attempt({ jwks_uri: 'https://10.0.0.7/jwks.json' }),
      'invalid_client_metadata',
      /forbidden address/,
    );
    refuse(
      'jwks_uri whose name resolves to loopback',
      () => attempt({ jwks_uri: 'https://localhost/jwks.json' }),
      'invalid_client_metadata',
      /resolves to a forbidden address/,
    );
    refuse('jwks_uri over http', () => attempt({ jwks_uri: 'http://tpp.example/jwks.json' }), 'invalid_client_metadata', /only https/);

    test('each case', async (t) => {
      for (const [name, run, code, description] of cases) {
        await t.test(name, async () => {
          const counted = await storedCounts();
          const { status, body } = await run();
          assert.equal(status, 400, `${name}: ${JSON.stringify(body)}`);
          assert.equal(body.error, code, `${name}: ${JSON.stringify(body)}`);
          assert.match(String(body.error_description), description);
          assert.deepEqual(await storedCounts(), counted, 'nothing is stored');
        });
      }
    });
  });

  test('a statement is accepted once: its jti replayed is refused, and a refusal does not use it up', async () => {
    const once = await issueSsa(assent);
    const refused = await callRegistration(assent, once.agent, { json: dpopClientMetadata(once, { token_endpoint_auth_method: 'none' }) });
    assert.equal(refused.body.error, 'invalid_client_metadata');

    const first = await callRegistration(assent, once.agent, { json: dpopClientMetadata(once) });
    assert.equal(first.status, 201, JSON.stringify(first.body));
    const replay = await callRegistration(assent, once.agent, { json: dpopClientMetadata(once) });
    assert.equal(replay.status, 400);
    assert.equal(replay.body.error, 'invalid_software_statement');
    assert.match(String(replay.body.error_description), /replay/);
  });

  test('concurrent registrations with one statement: exactly one wins', async () => {
    const shared = await issueSsa(assent);
    const results = await Promise.all(
      Array.from({ length: 6 }, () => callRegistration(assent, shared.agent, { json: dpopClientMetadata(shared) })),
    );
    assert.equal(results.filter((result) => result.status === 201).length, 1);
    assert.ok(results.filter((result) => result.status !== 201).every((result) => result.body.error === 'invalid_software_statement'));
    const rows = await assent.db.selectFrom('tpp').select('client_id').where('software_id', '=', shared.softwareId).execute();
    assert.equal(rows.length, 1);
  });

  test('clients made without a statement show their own name, and have no TPP profile', async () => {
    const seeded = await createTestTpp(assent);
    assert.equal(await getTppProfile(assent.db, seeded.clientId), undefined);
    assert.deepEqual(await getClientDisplay(assent.db, seeded.clientId), {
      name: `Test TPP ${seeded.clientId}`,
      logoUri: null,
      bankOwn: false,
    });
    assert.equal(await getClientDisplay(assent.db, 'no-such-client'), undefined);
  });

  test('discovery advertises the registration endpoint, and only the scopes a TPP may ask for', async () => {
    const config = await oidc.discovery(new URL(assent.issuer), 'anyone', undefined, undefined, {
      [oidc.customFetch]: fetchVia(kit.agent),
    });
    assert.equal(config.serverMetadata().registration_endpoint, `${assent.issuer}/register`);
    for (const path of [DISCOVERY_PATH, OAUTH_METADATA_PATH]) {
      const metadata = (await (await fetch(`${assent.issuer}${path}`, { dispatcher: kit.agent })).json()) as { scopes_supported: string[] };
      assert.ok(!metadata.scopes_supported.includes(SCOPE.bank), `${path}: not the resource servers' ${SCOPE.bank}`);
      assert.deepEqual(
        SCOPES.filter((scope) => scope !== SCOPE.bank && !metadata.scopes_supported.includes(scope)),
        [],
        `${path}: every other scope`,
      );
    }
  });
});
