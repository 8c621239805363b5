import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { checkScaBinding, hasScaScope, type ScaRequest, scaScopeOf } from '../../src/berlin-group/bg-sca-binding.ts';
import { BindingRefused } from '../../src/consents/consent-errors.ts';
import type { Consent } from '../../src/consents/consent.ts';

/** The OAuth2 SCA approach's binding rules, below the provider: the scope read, and what an eIDAS TPP may bind. */

const REDIRECT = 'https://tpp.example/cb';

function consent(overrides: Partial<Consent> = {}): Consent {
  return {
    id: randomUUID(),
    clientId: 'PSDDE-BAFIN-123456',
    type: 'account_access',
    standard: 'berlin_group',
    status: 'AwaitingAuthorisation',
    reads: [{ scope: 'accounts.basic', accounts: null }],
    expiresAt: new Date(Date.now() + 86_400_000),
    transactionFrom: null,
    transactionTo: null,
    recurring: true,
    frequencyPerDay: 4,
    combinedService: false,
    redirectUri: REDIRECT,
    payment: null,
    debtorAccount: null,
    payingAccount: null,
    risk: {},
    vrp: null,
    customerId: null,
    selectedAccountIds: [],
    grantId: null,
    statusReason: null,
    endedBy: null,
    statusUpdatedAt: new Date(),
    createdAt: new Date(),
    lastUsedAt: null,
    ...overrides,
  };
}

const asked: ScaRequest = { type: 'account_access', redirectUri: REDIRECT, roles: ['PSP_AI'] };

const refused = (run: () => void, reason: RegExp) =>
  assert.throws(run, (error: unknown) => error instanceof BindingRefused && reason.test(error.message));

describe('the Berlin Group OAuth2 SCA binding', () => {
  test('scaScopeOf reads AIS:<consentId> and PIS:<paymentId> among other scopes; two, or an empty id, are refused', () => {
    assert.deepEqual(scaScopeOf('openid AIS:abc'), { service: 'AIS', consentId: 'abc', type: 'account_access' });
    assert.deepEqual(scaScopeOf('PIS:p-1'), { service: 'PIS', consentId: 'p-1', type: 'domestic_payment' });
    assert.equal(scaScopeOf('openid accounts'), undefined);
    assert.equal(scaScopeOf('ais:abc'), undefined, 'the service is upper case, as the guidelines write it');
    refused(() => scaScopeOf('AIS:a AIS:b'), /exactly one consent/);
    refused(() => scaScopeOf('AIS:a PIS:b'), /exactly one consent/);
    refused(() => scaScopeOf('AIS:'), /names no consent/);
    assert.equal(hasScaScope('openid AIS:'), true);
    assert.equal(hasScaScope('openid accounts'), false);
  });

  test('a Berlin Group consent awaiting authorisation, with the role and its own redirect URI, binds', () => {
    checkScaBinding(consent(), asked);
    checkScaBinding(consent(), { ...asked, type: undefined, roles: undefined });
    checkScaBinding(consent({ type: 'domestic_payment' }), { ...asked, type: 'domestic_payment', roles: ['PSP_PI'] });
  });

  test('each refusal', () => {
    refused(() => checkScaBinding(undefined, asked), /unknown consent/);
    refused(() => checkScaBinding(consent({ standard: 'uk_ob_v3' }), asked), /not a Berlin Group consent/);
    refused(() => checkScaBinding(consent(), { ...asked, type: 'domestic_payment' }), /not of the kind/);
    refused(() => checkScaBinding(consent({ type: 'funds_confirmation' }), { ...asked, type: undefined }), /no Berlin Group authorisation/);
    refused(() => checkScaBinding(consent({ status: 'Authorised' }), asked), /Authorised, not awaiting authorisation/);
    refused(() => checkScaBinding(consent({ expiresAt: new Date(Date.now() - 1000) }), asked), /expired/);
    refused(() => checkScaBinding(consent(), { ...asked, roles: ['PSP_PI'] }), /PSP_AI/);
    refused(() => checkScaBinding(consent(), { ...asked, roles: [] }), /PSP_AI/);
    refused(() => checkScaBinding(consent({ type: 'domestic_payment' }), { ...asked, type: undefined }), /PSP_PI/);
    refused(() => checkScaBinding(consent(), { ...asked, redirectUri: `${REDIRECT}?x=1` }), /TPP-Redirect-URI/);
    refused(() => checkScaBinding(consent(), { ...asked, redirectUri: undefined }), /TPP-Redirect-URI/);
    refused(() => checkScaBinding(consent({ redirectUri: null }), { ...asked, redirectUri: 'null' }), /TPP-Redirect-URI/);
  });
});
