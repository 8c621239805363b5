import { randomInt, randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import { type BankAccount, openAccount } from '../../src/customers/account-directory.ts';
import { type TestAssent, tlsAgent } from './assent.ts';
import {
  ACCOUNT_ACCESS,
  ACCOUNT_ACCESS_V4,
  accountAccessRequest,
  ConsentApiClient,
  DOMESTIC_PAYMENT,
  DOMESTIC_PAYMENT_V4,
  DOMESTIC_VRP,
  DOMESTIC_VRP_V4,
  domesticPaymentRequest,
  domesticPaymentRequestV4,
  domesticVrpRequest,
  domesticVrpRequestV4,
} from './consent-api.ts';
import { CustomerAgent, type Page } from './customer-agent.ts';
import { createTestCustomer, type TestCustomer } from './customers.ts';
import { pushAuthorizationRequest, type TestTpp, redeemCode } from './tpp.ts';

/**
 * Consents the way they come to exist in production: the TPP creates one through the consent API,
 * sends the customer through PAR and the sign-in and consent pages, and redeems the code.
 */

/** A customer with a current account and a savings account, both in GBP. */
export async function customerWithAccounts(assent: Pick<TestAssent, 'db'>) {
  const customer = await createTestCustomer(assent.db);
  const account = (name: string, accountSubtype: 'CurrentAccount' | 'Savings') =>
    openAccount(assent.db, {
      customerId: customer.id,
      schemeName: 'UK.OBIE.SortCodeAccountNumber',
      identification: String(randomInt(10 ** 13, 10 ** 14 - 1)),
      name,
      currency: 'GBP',
      accountType: 'Personal',
      accountSubtype,
    });
  return { customer, current: await account('Everyday Current', 'CurrentAccount'), savings: await account('Rainy Day Saver', 'Savings') };
}

export interface GrantedConsent {
  consentId: string;
  tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
  dpop: oidc.DPoPHandle;
  /** The consent page the customer approved. */
  consentPage: Page;
}

/** The essential `openbanking_intent_id` claims request that binds a consent (UK OB). */
export const intentClaims = (consentId: string) =>
  JSON.stringify({ id_token: { openbanking_intent_id: { value: consentId, essential: true } } });

/** A consent approved by the customer, up to the TPP's callback carrying the code (not yet redeemed). */
export interface ApprovedConsent {
  consentId: string;
  callback: URL;
  request: Awaited<ReturnType<typeof pushAuthorizationRequest>>;
  dpop: oidc.DPoPHandle;
  /** The consent page the customer approved. */
  consentPage: Page;
}

/** Which consent to create; `vrp` overrides fields of the default domestic VRP request. */
export interface ConsentOptions {
  type: 'account_access' | 'domestic_payment' | 'domestic_vrp';
  accounts: readonly BankAccount[];
  vrp?: Record<string, unknown>;
  /** Extra PAR parameters. */
  parameters?: Record<string, string>;
  /** The customer's browser, when a test keeps one (and its sign-in session) across authorizations. */
  browser?: CustomerAgent;
  /** The UK OB version that creates the consent (v3.1 unless said); a v4.0 VRP's `vrp` overrides its control parameters. */
  version?: 'v3.1' | 'v4.0';
  /** How the TPP's tokens are bound: DPoP unless said; mtls for a TPP registered for certificate-bound tokens. */
  senderConstraint?: 'dpop' | 'mtls';
}

export async function approveConsent(
  assent: Pick<TestAssent, 'issuer' | 'ca' | 'db'>,
  tpp: TestTpp,
  customer: TestCustomer,
  options: ConsentOptions,
): Promise<ApprovedConsent> {
  const api = await ConsentApiClient.create(assent, tpp);
  const created =
    options.type === 'account_access'
      ? await api.call('POST', options.version === 'v4.0' ? ACCOUNT_ACCESS_V4 : ACCOUNT_ACCESS, { body: accountAccessRequest() })
      : options.type === 'domestic_vrp'
        ? options.version === 'v4.0'
          ? await api.call('POST', DOMESTIC_VRP_V4, {
              body: domesticVrpRequestV4(options.vrp),
              headers: { 'x-idempotency-key': randomUUID() },
            })
          : await api.call('POST', DOMESTIC_VRP, { body: domesticVrpRequest(options.vrp), headers: { 'x-idempotency-key': randomUUID() } })
        : options.version === 'v4.0'
          ? await api.call('POST', DOMESTIC_PAYMENT_V4, {
              body: domesticPaymentRequestV4(),
              headers: { 'x-idempotency-key': randomUUID() },
            })
          : await api.call('POST', DOMESTIC_PAYMENT, { body: domesticPaymentRequest(), headers: { 'x-idempotency-key': randomUUID() } });
  const consentId = (created.body as { Data: { ConsentId: string } }).Data.ConsentId;
  if (!consentId) throw new Error(`the consent API refused: ${JSON.stringify(created.body)}`);

  const dpop = oidc.getDPoPHandle(tpp.config, await oidc.randomDPoPKeyPair('ES256'));
  const claims = intentClaims(consentId);
  const scope = options.type === 'account_access' ? 'openid accounts' : 'openid payments';
  const request = await pushAuthorizationRequest(
    tpp,
    { scope, claims, ...options.parameters },
    options.senderConstraint === 'mtls' ? {} : { DPoP: dpop },
  );

  const browser = options.browser ?? new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer);
  const consentPage = await browser.signIn(request.url, customer);
  const selection =
    options.type === 'account_access'
      ? Object.fromEntries(options.accounts.map((account) => [`account:${account.id}`, 'on']))
      : { account: options.accounts[0]!.id };
  const callback = await browser.submit(consentPage, 'confirm', selection);
  if (!callback.url.href.startsWith(tpp.redirectUri))
    throw new Error(`the consent page did not return to the TPP: ${callback.url} (${callback.status}) ${callback.body.slice(0, 300)}`);
  return { consentId, callback: callback.url, request, dpop, consentPage };
}

export async function grantConsent(
  assent: Pick<TestAssent, 'issuer' | 'ca' | 'db'>,
  tpp: TestTpp,
  customer: TestCustomer,
  options: ConsentOptions,
): Promise<GrantedConsent> {
  const { consentId, callback, request, dpop, consentPage } = await approveConsent(assent, tpp, customer, options);
  const tokens = await redeemCode(tpp, callback, request, {
    ...(options.senderConstraint !== 'mtls' && { dpop }),
    idTokenExpected: true,
  });
  return { consentId, tokens, dpop, consentPage };
}
