import 'reflect-metadata';
import assert from 'node:assert/strict';
import { randomInt, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { sql } from 'kysely';
import * as oidc from 'openid-client';
import { fetch } from 'undici';
import { auditHistory } from '../../src/audit/audit-trail.ts';
import { type BankAccount, openAccount } from '../../src/customers/account-directory.ts';
import { ensureDevPki, issueCertificate, type PemPair } from '../../src/http/dev-pki.ts';
import type { Psd2Role } from '../../src/protocol/routes.ts';
import { suspendTpp } from '../../src/tpp/tpp-service.ts';
import { tlsAgent } from '../support/assent.ts';
import { ACCOUNT_ACCESS, accountAccessRequest, ConsentApiClient } from '../support/consent-api.ts';
import { CustomerAgent, type Page } from '../support/customer-agent.ts';
import { createTestCustomer, type TestCustomer } from '../support/customers.ts';
import { csrfTokenOf, pageText, signInToDashboard } from '../support/dashboard.ts';
import { changedTables, databaseFingerprint } from '../support/db-fingerprint.ts';
import { useAssent, useResourceServer, useTpp } from '../support/fixture.ts';
import { type EidasTppClient, eidasTppClient, pushBgAuthorization } from '../support/berlin-group.ts';

/**
 * Issue 28, the Berlin Group OAuth2 SCA approach (REDIRECT) end to end on a real Assent over mTLS: an EU TPP
 * known only by its QWAC creates an AIS consent (POST /v1/consents), pushes an authorization request naming
 * it by scope `AIS:<consentId>` (or authorization_details) with its QWAC as client authentication, the
 * customer signs in and grants exactly the accounts the consent names, the TPP redeems the code with the
 * QWAC for a certificate-bound token, the bank introspects it and records an access; the customer revokes it
 * on the dashboard: revokedByPsu and the token dead at once. Every refusal at PAR changes nothing.
 */

const REDIRECT = 'https://kontoblick.example/callback';
const ORG = 'PSDDE-BAFIN-SCA001';

/** A random German IBAN with correct check digits (ISO 13616: mod 97 of BBAN + "DE00" as digits). */
function germanIban(): string {
  const bban = Array.from({ length: 18 }, () => randomInt(10)).join('');
  const check = 98 - Number(BigInt(`${bban}131400`) % 97n);
  return `DE${String(check).padStart(2, '0')}${bban}`;
}

const push = (tpp: EidasTppClient, parameters: Record<string, string>) => pushBgAuthorization(tpp, REDIRECT, parameters);

describe('the Berlin Group OAuth2 SCA approach for AIS consents', () => {
  const assent = useAssent();
  const bank = useResourceServer(assent, 'Accounts API');
  const ukTpp = useTpp(assent, { auth: 'tls_client_auth' });
  let aisp: EidasTppClient;
  let other: EidasTppClient;

  const qwac = (organizationId: string, roles: Psd2Role[], ca: PemPair = assent.ca, name = 'Kontoblick GmbH') =>
    issueCertificate(ca, {
      subject: `CN=${organizationId}-${randomUUID().slice(0, 8)},organizationIdentifier=${organizationId},O=${name},C=DE`,
      usage: 'client',
      psd2: { roles: roles as ('PSP_AI' | 'PSP_PI')[], ncaName: 'BaFin', ncaId: 'DE-BAFIN' },
    });

  const eidasClient = (organizationId: string, certificate: PemPair) => eidasTppClient(assent, organizationId, certificate);

  async function bg(tpp: EidasTppClient, method: string, resource: string, body?: unknown, headers: Record<string, string> = {}) {
    const response = await fetch(`${assent.issuer}${resource}`, {
      method,
      dispatcher: tpp.agent,
      headers: {
        'X-Request-ID': randomUUID(),
        'TPP-Redirect-URI': REDIRECT,
        ...(body !== undefined && { 'Content-Type': 'application/json' }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> | undefined };
  }

  async function createBgConsent(tpp: EidasTppClient, access: Record<string, unknown>, overrides: Record<string, unknown> = {}) {
    const created = await bg(tpp, 'POST', '/v1/consents', {
      access,
      recurringIndicator: true,
      validUntil: '9999-12-31',
      frequencyPerDay: 4,
      combinedServiceIndicator: false,
      ...overrides,
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body!.consentId as string;
  }

  /**
   * A SEPA payment initiated on /v1/payments under the organisation's certificate with the PSP_PI role (a TPP
   * may hold several certificates; each request is judged by the one it presents).
   */
  async function createBgPayment(organizationId: string) {
    const payer = await eidasClient(organizationId, await qwac(organizationId, ['PSP_PI']));
    const created = await bg(
      payer,
      'POST',
      '/v1/payments/sepa-credit-transfers',
      {
        debtorAccount: { iban: germanIban() },
        instructedAmount: { currency: 'EUR', amount: '123.45' },
        creditorAccount: { iban: germanIban() },
        creditorName: 'Stadtwerke',
      },
      { 'PSU-IP-Address': '192.0.2.1' },
    );
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body!.paymentId as string;
  }

  const statusOf = async (tpp: EidasTppClient, consentId: string) =>
    (await bg(tpp, 'GET', `/v1/consents/${consentId}/status`)).body!.consentStatus;

  /** A PAR the server refuses: the OAuth error, and proof that nothing was written. */
  async function refusedPar(tpp: EidasTppClient, parameters: Record<string, string>): Promise<{ error: string; description: string }> {
    const was = await databaseFingerprint(assent.db);
    const refusal = await push(tpp, parameters).then(
      () => assert.fail('the pushed authorization request was accepted'),
      (error: unknown) => error as oidc.ResponseBodyError,
    );
    assert.ok(refusal instanceof oidc.ResponseBodyError, String(refusal));
    assert.deepEqual(changedTables(was, await databaseFingerprint(assent.db)), [], 'a refused request writes nothing');
    return { error: refusal.error, description: refusal.error_description ?? '' };
  }

  async function customerWithIbans(): Promise<{ customer: TestCustomer; named: BankAccount; unnamed: BankAccount }> {
    const customer = await createTestCustomer(assent.db);
    const account = (name: string) =>
      openAccount(assent.db, {
        customerId: customer.id,
        schemeName: 'UK.OBIE.IBAN',
        identification: germanIban(),
        name,
        currency: 'EUR',
        accountType: 'Personal',
        accountSubtype: 'CurrentAccount',
      });
    return { customer, named: await account('Girokonto'), unnamed: await account('Tagesgeld') };
  }

  before(async () => {
    aisp = await eidasClient(ORG, await qwac(ORG, ['PSP_AI']));
    other = await eidasClient('PSDDE-BAFIN-SCA002', await qwac('PSDDE-BAFIN-SCA002', ['PSP_AI', 'PSP_PI'], assent.ca, 'Andere Bank AG'));
  });

  test('first contact makes the TPP an eIDAS client: tls_client_auth by its QWAC, bound tokens, PAR, no redirect URI of its own', async () => {
    await createBgConsent(aisp, { availableAccounts: 'allAccounts' }, { recurringIndicator: false, frequencyPerDay: 1 });
    const stored = await assent.db
      .selectFrom('oidc_model')
      .select('payload')
      .where('model', '=', 'Client')
      .where('id', '=', ORG)
      .executeTakeFirstOrThrow();
    assert.deepEqual(
      {
        kind: stored.payload.client_kind,
        auth: stored.payload.token_endpoint_auth_method,
        bound: stored.payload.tls_client_certificate_bound_access_tokens,
        par: stored.payload.require_pushed_authorization_requests,
        redirects: stored.payload.redirect_uris,
      },
      { kind: 'eidas_tpp', auth: 'tls_client_auth', bound: true, par: true, redirects: [] },
    );

    // A TPP first met before its client existed gets one at its next call that writes (GETs never write).
    const clientOf = (id: string) =>
      assent.db.selectFrom('oidc_model').select('id').where('model', '=', 'Client').where('id', '=', id).executeTakeFirst();
    await createBgConsent(other, { availableAccounts: 'allAccounts' });
    await assent.db.deleteFrom('oidc_model').where('model', '=', 'Client').where('id', '=', other.organizationId).execute();
    assert.equal((await bg(other, 'GET', `/v1/consents/${randomUUID()}/status`)).status, 403);
    assert.equal(await clientOf(other.organizationId), undefined);
    await createBgConsent(other, { availableAccounts: 'allAccounts' });
    assert.ok(await clientOf(other.organizationId));
  });

  test('consent -> PAR with scope AIS:<id> -> sign-in, named accounts only -> token over mTLS -> introspection, access -> revoked on the dashboard', async () => {
    const { customer, named, unnamed } = await customerWithIbans();
    const consentId = await createBgConsent(aisp, {
      accounts: [{ iban: named.identification }],
      balances: [{ iban: named.identification }],
    });
    assert.equal(await statusOf(aisp, consentId), 'received');

    const pushed = await push(aisp, { scope: `AIS:${consentId}` });
    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    const page = await browser.signIn(pushed.url, customer);
    assert.equal(page.status, 200, page.body.slice(0, 300));
    const words = pageText(page);
    assert.match(words, /Kontoblick GmbH wants to see information about your accounts/);
    assert.match(words, new RegExp(`Only these accounts: IBAN ${named.identification.replace(/(.{4})(?=.)/g, '$1 ')}`));
    assert.match(words, /Kontoblick GmbH may look up to 4 times a day when you are not using its app/);
    assert.match(words, /Until \d{1,2} \w+ \d{4}/);
    assert.ok(page.body.includes(`account:${named.id}`), 'the named account is offered');
    assert.ok(!page.body.includes(`account:${unnamed.id}`), 'an account the consent does not name is not offered');

    // Posted anyway, an account the consent does not name is refused, and the consent still awaits the customer.
    const smuggled = await browser.submit(page, 'confirm', { [`account:${unnamed.id}`]: 'on' });
    assert.equal(smuggled.status, 400);
    assert.equal(await statusOf(aisp, consentId), 'received');

    const callback = await browser.submit(page, 'confirm', { [`account:${named.id}`]: 'on' });
    assert.equal(`${callback.url.origin}${callback.url.pathname}`, REDIRECT, 'the code goes to the consent’s TPP-Redirect-URI');
    const tokens = await oidc.authorizationCodeGrant(aisp.config, callback.url, {
      pkceCodeVerifier: pushed.codeVerifier,
      expectedState: pushed.state,
    });
    assert.equal(tokens.token_type.toLowerCase(), 'bearer');
    assert.ok(tokens.refresh_token, 'a recurring consent gets a refresh token');
    assert.equal(await statusOf(aisp, consentId), 'valid');
    // The authorisation started with the consent (REDIRECT) is this OAuth flow: finalised.
    const authorisations = (await bg(aisp, 'GET', `/v1/consents/${consentId}/authorisations`)).body!.authorisationIds as string[];
    assert.equal(authorisations.length, 1);
    const sca = await bg(aisp, 'GET', `/v1/consents/${consentId}/authorisations/${authorisations[0]}`);
    assert.equal(sca.body!.scaStatus, 'finalised');

    const seen = await bank.introspect(tokens.access_token);
    assert.equal(seen.active, true);
    assert.equal(seen.client_id, ORG);
    assert.equal(seen.consent_id, consentId);
    assert.equal(seen.standard, 'berlin_group');
    assert.deepEqual(seen.account_ids, [named.id]);
    assert.ok((seen.cnf as Record<string, string>)['x5t#S256'], 'bound to the QWAC');
    const grantExpiry = await assent.db
      .selectFrom('oidc_model')
      .select('expires_at')
      .where('model', '=', 'RefreshToken')
      .where(
        'grant_id',
        '=',
        (await assent.db.selectFrom('consent').select('grant_id').where('id', '=', consentId).executeTakeFirstOrThrow()).grant_id,
      )
      .executeTakeFirstOrThrow();
    const consentExpiry = (await assent.db.selectFrom('consent').select('expires_at').where('id', '=', consentId).executeTakeFirstOrThrow())
      .expires_at!;
    assert.ok(
      Math.abs(grantExpiry.expires_at!.getTime() - consentExpiry.getTime()) < 60_000,
      'the refresh token lives as long as the consent',
    );

    const refreshed = await oidc.refreshTokenGrant(aisp.config, tokens.refresh_token!);
    assert.equal((await bank.introspect(refreshed.access_token)).consent_id, consentId);

    const access = await bank.call('POST', `/bank/consents/${consentId}/accesses`, { body: { resource: 'balances', accountId: named.id } });
    assert.equal(access.status, 201, JSON.stringify(access.body));

    // The customer revokes it on the dashboard, which shows it in the same plain words (EN and DE).
    const dashboard = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    const { home } = await signInToDashboard(dashboard, assent.issuer, customer);
    const last4 = named.identification.slice(-4);
    assert.match(pageText(home), new RegExp(`Kontoblick GmbH See your account information .*Girokonto \\(ending ${last4}\\)`));
    const homeDe = await dashboard.open(new URL('/dashboard?lang=de', assent.issuer));
    assert.match(pageText(homeDe), /Kontoblick GmbH Ihre Kontoinformationen einsehen/);
    const detail = await dashboard.open(new URL(`/dashboard/consents/${consentId}?lang=en`, assent.issuer));
    assert.match(pageText(detail), /Kontoblick GmbH/);
    assert.match(pageText(detail), /Kontoblick GmbH may look up to 4 times a day when you are not using its app/);
    const german = await dashboard.open(new URL(`/dashboard/consents/${consentId}?lang=de`, assent.issuer));
    assert.match(pageText(german), /Kontoblick GmbH darf bis zu 4-mal am Tag nachsehen, wenn Sie die App nicht nutzen/);
    const confirm = await dashboard.open(new URL(`/dashboard/consents/${consentId}/revoke?lang=en`, assent.issuer));
    await dashboard.open(new URL(`/dashboard/consents/${consentId}/revoke`, assent.issuer), { form: { csrf_token: csrfTokenOf(confirm) } });

    assert.equal(await statusOf(aisp, consentId), 'revokedByPsu');
    assert.equal((await bank.introspect(refreshed.access_token)).active, false, 'its tokens die at once');
    assert.equal((await bank.introspect(tokens.access_token)).active, false);
    const events = (await auditHistory(assent.db, 'consent', consentId)).map((event) => event.event);
    assert.deepEqual(events, [
      'consent.created',
      'consent.authorisation_started',
      'consent.authorised',
      'access.recorded',
      'consent.revoked',
    ]);
  });

  test('authorization_details [{type: account_information, consent_id}] binds the consent as the scope does; the customer denies: rejected', async () => {
    const { customer } = await customerWithIbans();
    const consentId = await createBgConsent(aisp, { allPsd2: 'allAccounts' });
    const pushed = await push(aisp, {
      scope: 'openid',
      authorization_details: JSON.stringify([{ type: 'account_information', consent_id: consentId }]),
    });
    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    const page = await browser.signIn(pushed.url, customer);
    assert.match(pageText(page), /Kontoblick GmbH wants to see information about your accounts/);
    assert.doesNotMatch(pageText(page), /Only these accounts/, 'allPsd2: the customer picks');
    const denied = await browser.submit(page, 'abort');
    assert.equal(`${denied.url.origin}${denied.url.pathname}`, REDIRECT);
    assert.equal(denied.url.searchParams.get('error'), 'access_denied');
    assert.equal(await statusOf(aisp, consentId), 'rejected');
  });

  test('refused at PAR, nothing written: unknown, another TPP’s, not awaiting, expired, wrong redirect_uri, no consent at all', async () => {
    const mine = await createBgConsent(aisp, { availableAccounts: 'allAccounts' }, { recurringIndicator: false, frequencyPerDay: 1 });
    const theirs = await createBgConsent(other, { availableAccounts: 'allAccounts' }, { recurringIndicator: false, frequencyPerDay: 1 });

    for (const [why, parameters, expected] of [
      ['unknown consent', { scope: `AIS:${randomUUID()}` }, /unknown consent/],
      ['not a consent id', { scope: 'AIS:../../etc' }, /unknown consent/],
      ['another TPP’s consent', { scope: `AIS:${theirs}` }, /unknown consent/],
      [
        'by details, another TPP’s',
        { authorization_details: JSON.stringify([{ type: 'account_information', consent_id: theirs }]) },
        /unknown consent/,
      ],
      ['a payment scope naming a consent', { scope: `PIS:${mine}` }, /not of the kind/],
      ['two SCA scopes', { scope: `AIS:${mine} AIS:${theirs}` }, /exactly one consent/],
      [
        'scope and details disagree',
        { scope: `AIS:${mine}`, authorization_details: JSON.stringify([{ type: 'account_information', consent_id: theirs }]) },
        /different consents/,
      ],
      ['no consent named', { scope: 'openid' }, /only its Berlin Group consents/],
      ['a UK scope', { scope: `openid accounts AIS:${mine}` }, /scope/],
      ['another redirect_uri', { scope: `AIS:${mine}`, redirect_uri: 'https://evil.example/callback' }, /TPP-Redirect-URI/],
      ['a redirect_uri differing in its path', { scope: `AIS:${mine}`, redirect_uri: `${REDIRECT}/` }, /TPP-Redirect-URI/],
    ] as const) {
      const refusal = await refusedPar(aisp, parameters as Record<string, string>);
      assert.match(refusal.error, /^invalid_(request|scope|authorization_details)$/, why);
      assert.match(refusal.description, expected, why);
    }

    // Not awaiting authorisation (the TPP withdrew it), then expired.
    const withdrawn = await createBgConsent(aisp, { availableAccounts: 'allAccounts' }, { recurringIndicator: false, frequencyPerDay: 1 });
    assert.equal((await bg(aisp, 'DELETE', `/v1/consents/${withdrawn}`)).status, 204);
    assert.match((await refusedPar(aisp, { scope: `AIS:${withdrawn}` })).description, /Rejected, not awaiting authorisation/);
    await sql`update consent set expires_at = now() - interval '1 minute' where id = ${mine}`.execute(assent.db);
    assert.match((await refusedPar(aisp, { scope: `AIS:${mine}` })).description, /expired/);
  });

  test('a renewed certificate of the same organisation still authenticates, but one without PSP_AI cannot bind an AIS consent', async () => {
    const consentId = await createBgConsent(aisp, { availableAccounts: 'allAccounts' }, { recurringIndicator: false, frequencyPerDay: 1 });
    const renewed = await eidasClient(ORG, await qwac(ORG, ['PSP_AI']));
    assert.ok((await push(renewed, { scope: `AIS:${consentId}` })).url.searchParams.get('request_uri'));
    const piOnly = await eidasClient(ORG, await qwac(ORG, ['PSP_PI']));
    const refusal = await refusedPar(piOnly, { scope: `AIS:${consentId}` });
    assert.equal(refusal.error, 'invalid_request');
    assert.match(refusal.description, /PSP_AI/);
  });

  test('a certificate from an untrusted CA, or of another organisation, does not authenticate as the TPP', async () => {
    const consentId = await createBgConsent(aisp, { availableAccounts: 'allAccounts' }, { recurringIndicator: false, frequencyPerDay: 1 });
    const elsewhere = await mkdtemp(path.join(tmpdir(), 'assent-other-ca-'));
    try {
      const strangerCa = (await ensureDevPki(elsewhere)).ca;
      const forged = await eidasClient(ORG, await qwac(ORG, ['PSP_AI'], strangerCa));
      assert.equal((await refusedPar(forged, { scope: `AIS:${consentId}` })).error, 'invalid_client');
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
    const impostor = await eidasClient(ORG, await qwac('PSDDE-BAFIN-SCA002', ['PSP_AI']));
    assert.equal((await refusedPar(impostor, { scope: `AIS:${consentId}` })).error, 'invalid_client');
  });

  test('dialects stay apart: a registered TPP cannot bind a Berlin Group consent, an eIDAS TPP not a UK one', async () => {
    const bgConsent = await createBgConsent(aisp, { availableAccounts: 'allAccounts' }, { recurringIndicator: false, frequencyPerDay: 1 });
    const ukAsEidas: EidasTppClient = { organizationId: ukTpp.clientId, agent: ukTpp.agent, config: ukTpp.config };
    for (const parameters of [
      {
        scope: 'openid accounts',
        redirect_uri: ukTpp.redirectUri,
        authorization_details: JSON.stringify([{ type: 'account_information', consent_id: bgConsent }]),
      },
      { scope: `openid AIS:${bgConsent}`, redirect_uri: ukTpp.redirectUri },
    ] as Record<string, string>[]) {
      const refusal = await refusedPar(ukAsEidas, parameters);
      assert.match(refusal.description, /unknown consent|for TPPs known by their eIDAS certificate/);
    }
    const api = await ConsentApiClient.create(assent, ukTpp);
    const created = await api.call('POST', ACCOUNT_ACCESS, { body: accountAccessRequest() });
    const ukConsent = (created.body as { Data: { ConsentId: string } }).Data.ConsentId;
    const refusal = await refusedPar(aisp, {
      authorization_details: JSON.stringify([{ type: 'account_information', consent_id: ukConsent }]),
    });
    assert.match(refusal.description, /unknown consent/);
  });

  test('a one-off consent (recurringIndicator false) gets its access token and no refresh token', async () => {
    const { customer, named } = await customerWithIbans();
    const consentId = await createBgConsent(aisp, { availableAccounts: 'allAccounts' }, { recurringIndicator: false, frequencyPerDay: 1 });
    const pushed = await push(aisp, { scope: `AIS:${consentId}` });
    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    const page = await browser.signIn(pushed.url, customer);
    assert.match(pageText(page), /Kontoblick GmbH may use this access once/);
    const callback = await browser.submit(page, 'confirm', { [`account:${named.id}`]: 'on' });
    const tokens = await oidc.authorizationCodeGrant(aisp.config, callback.url, {
      pkceCodeVerifier: pushed.codeVerifier,
      expectedState: pushed.state,
    });
    assert.equal(tokens.refresh_token, undefined);
    assert.equal((await bank.introspect(tokens.access_token)).consent_id, consentId);
  });

  test('PIS:<paymentId> binds a Berlin Group payment (a domestic_payment consent, SEPA) for a PSP_PI certificate only', async () => {
    const theirs = await createBgPayment(other.organizationId);
    assert.ok((await push(other, { scope: `PIS:${theirs}` })).url.searchParams.get('request_uri'));
    assert.match((await refusedPar(other, { scope: `AIS:${theirs}` })).description, /not of the kind/);
    const mine = await createBgPayment(aisp.organizationId);
    assert.match((await refusedPar(aisp, { scope: `PIS:${mine}` })).description, /PSP_PI/);
  });

  test('a suspended eIDAS TPP is refused at PAR and at the token endpoint', async () => {
    const organizationId = 'PSDDE-BAFIN-SCA003';
    const suspended = await eidasClient(organizationId, await qwac(organizationId, ['PSP_AI']));
    const { customer } = await customerWithIbans();
    const consentId = await createBgConsent(suspended, { availableAccounts: 'allAccounts' });
    const pushed = await push(suspended, { scope: `AIS:${consentId}` });
    const browser = new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
    const page: Page = await browser.signIn(pushed.url, customer);
    const choose = /name="(account:[^"]+)"/.exec(page.body)![1]!;
    const callback = await browser.submit(page, 'confirm', { [choose]: 'on' });

    await suspendTpp(assent.db, organizationId, { reason: 'test', actor: { kind: 'operator', id: 'test' } });
    await assert.rejects(
      oidc.authorizationCodeGrant(suspended.config, callback.url, { pkceCodeVerifier: pushed.codeVerifier, expectedState: pushed.state }),
      (error: oidc.ResponseBodyError) => error.error === 'invalid_client',
    );
    const another = await assent.db.selectFrom('consent').select('id').where('client_id', '=', organizationId).executeTakeFirstOrThrow();
    assert.equal((await refusedPar(suspended, { scope: `AIS:${another.id}` })).error, 'invalid_client');
  });
});
