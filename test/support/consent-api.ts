import * as oidc from 'openid-client';
import { fetch } from 'undici';
import type { Db } from '../../src/db/connect.ts';
import { CONSENT_API_PATHS, OB_API_PREFIX, OB_V4_API_PREFIX, V4_CONSENT_API_PATHS } from '../../src/protocol/routes.ts';
import type { TestAssent } from './assent.ts';
import type { TestTpp } from './tpp.ts';
import { CONSENT_SCOPES } from '../../src/protocol/scopes.ts';

export interface ApiResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

/** A UK OB consent answer's `Data.Status`. */
export const statusOf = (response: ApiResponse) => (response.body as { Data: { Status: string } }).Data.Status;

/**
 * A call to one of Assent's APIs with an access token (and a fresh DPoP proof when bound to one); a
 * refusal with a challenge comes back as a response, not a throw, so its envelope can be checked.
 */
export async function callProtectedResource(
  config: oidc.Configuration,
  accessToken: string,
  url: URL,
  method: string,
  options: { body?: string; headers?: Headers; dpop?: oidc.DPoPHandle } = {},
): Promise<ApiResponse> {
  let response: Response;
  try {
    response = await oidc.fetchProtectedResource(config, accessToken, url, method, options.body, options.headers, { DPoP: options.dpop });
  } catch (error) {
    const challenged = (error as { response?: Response }).response;
    if (!challenged) throw error;
    response = challenged;
  }
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

export const ACCOUNT_ACCESS = `${OB_API_PREFIX}${CONSENT_API_PATHS.account_access}`;
export const DOMESTIC_PAYMENT = `${OB_API_PREFIX}${CONSENT_API_PATHS.domestic_payment}`;
export const FUNDS_CONFIRMATION = `${OB_API_PREFIX}${CONSENT_API_PATHS.funds_confirmation}`;
/** UK OB v4.0's account-access and funds-confirmation consents (test/uk-ob-v4/). */
export const ACCOUNT_ACCESS_V4 = `${OB_V4_API_PREFIX}${CONSENT_API_PATHS.account_access}`;
export const FUNDS_CONFIRMATION_V4 = `${OB_V4_API_PREFIX}${CONSENT_API_PATHS.funds_confirmation}`;
/** UK OB v4.0's domestic-payment consents (test/uk-ob-v4/payment-consents-v4.test.ts). */
export const DOMESTIC_PAYMENT_V4 = `${OB_V4_API_PREFIX}${CONSENT_API_PATHS.domestic_payment}`;

/**
 * A TPP calling the consent API with a client_credentials token bound the way the TPP registered:
 * DPoP (private_key_jwt test TPPs) or its client certificate (tls_client_auth test TPPs).
 */
export class ConsentApiClient {
  readonly tpp: TestTpp;
  readonly accessToken: string;
  readonly dpop: oidc.DPoPHandle | undefined;
  readonly #issuer: string;

  private constructor(issuer: string, tpp: TestTpp, accessToken: string, dpop: oidc.DPoPHandle | undefined) {
    this.#issuer = issuer;
    this.tpp = tpp;
    this.accessToken = accessToken;
    this.dpop = dpop;
  }

  static async create(assent: Pick<TestAssent, 'issuer' | 'db'>, tpp: TestTpp, scope = CONSENT_SCOPES.join(' ')) {
    const registered = await assent.db
      .selectFrom('oidc_model')
      .select('payload')
      .where('model', '=', 'Client')
      .where('id', '=', tpp.clientId)
      .executeTakeFirstOrThrow();
    const usesDpop = registered.payload.dpop_bound_access_tokens === true;
    const dpop = usesDpop ? oidc.getDPoPHandle(tpp.config, await oidc.randomDPoPKeyPair('PS256')) : undefined;
    const tokens = await oidc.clientCredentialsGrant(tpp.config, { scope }, { DPoP: dpop });
    return new ConsentApiClient(assent.issuer, tpp, tokens.access_token, dpop);
  }

  /** A request with the token and a fresh proof; 401 challenges come back as responses, not throws. */
  async call(
    method: string,
    path: string,
    options: { body?: unknown; headers?: Record<string, string>; dpop?: oidc.DPoPHandle } = {},
  ): Promise<ApiResponse> {
    const headers = new Headers(options.headers);
    if (options.body !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/json');
    const body = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    return callProtectedResource(this.tpp.config, this.accessToken, new URL(path, this.#issuer), method, {
      body,
      headers,
      dpop: options.dpop ?? this.dpop,
    });
  }

  /** The same request with hand-made headers and no proof machinery (for presentations that must fail). */
  async raw(method: string, path: string, headers: Record<string, string>): Promise<ApiResponse> {
    const response = await fetch(new URL(path, this.#issuer), { method, headers, dispatcher: this.tpp.agent });
    const text = await response.text();
    return { status: response.status, headers: response.headers as unknown as Headers, body: text ? JSON.parse(text) : undefined };
  }
}

const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString();

export function accountAccessRequest(data: Record<string, unknown> = {}) {
  return {
    Data: {
      Permissions: ['ReadAccountsDetail', 'ReadBalances', 'ReadTransactionsDetail', 'ReadTransactionsCredits', 'ReadTransactionsDebits'],
      ExpirationDateTime: inDays(90),
      TransactionFromDateTime: inDays(-365),
      TransactionToDateTime: inDays(0),
      ...data,
    },
    Risk: {},
  };
}

export function domesticPaymentRequest(initiation: Record<string, unknown> = {}) {
  return {
    Data: {
      Initiation: {
        InstructionIdentification: 'INSTR-0001',
        EndToEndIdentification: 'E2E-0001',
        InstructedAmount: { Amount: '165.88', Currency: 'GBP' },
        CreditorAccount: { SchemeName: 'UK.OBIE.SortCodeAccountNumber', Identification: '08080021325698', Name: 'ACME Inc' },
        RemittanceInformation: { Reference: 'FRESCO-101' },
        ...initiation,
      },
    },
    Risk: {},
  };
}

/** A v4.0 domestic payment (OBWriteDomesticConsent4): the reference in Structured remittance, a v4.0 Risk. */
export function domesticPaymentRequestV4(initiation: Record<string, unknown> = {}, risk: Record<string, unknown> = {}) {
  return {
    Data: {
      Initiation: {
        InstructionIdentification: 'INSTR-V4-0001',
        EndToEndIdentification: 'E2E-V4-0001',
        LocalInstrument: 'UK.OBIE.FPS',
        InstructedAmount: { Amount: '165.88', Currency: 'GBP' },
        CreditorAccount: { SchemeName: 'UK.OBIE.SortCodeAccountNumber', Identification: '08080021325698', Name: 'ACME Inc' },
        RemittanceInformation: {
          Structured: [{ CreditorReferenceInformation: { Code: 'SCOR', Reference: 'FRESCO-101' } }],
          Unstructured: ['Internal ops code 5120101'],
        },
        ...initiation,
      },
    },
    Risk: { PaymentContextCode: 'TransferToThirdParty', ...risk },
  };
}

export function fundsConfirmationRequest(data: Record<string, unknown> = {}) {
  return {
    Data: {
      DebtorAccount: { SchemeName: 'UK.OBIE.SortCodeAccountNumber', Identification: '40400411111111', Name: 'Everyday' },
      ExpirationDateTime: inDays(30),
      ...data,
    },
  };
}

export const DOMESTIC_VRP = `${OB_API_PREFIX}${CONSENT_API_PATHS.domestic_vrp}`;

/** A sweeping VRP consent: up to £250 a payment, £1,000 a calendar month, for a year, to ACME Savings. */
export function domesticVrpRequest(controlParameters: Record<string, unknown> = {}, initiation: Record<string, unknown> = {}) {
  return {
    Data: {
      ControlParameters: {
        PSUAuthenticationMethods: ['UK.OBIE.SCA'],
        VRPType: ['UK.OBIE.VRPType.Sweeping'],
        ValidFromDateTime: inDays(-1),
        ValidToDateTime: inDays(365),
        MaximumIndividualAmount: { Amount: '250.00', Currency: 'GBP' },
        PeriodicLimits: [{ Amount: '1000.00', Currency: 'GBP', PeriodType: 'Month', PeriodAlignment: 'Calendar' }],
        ...controlParameters,
      },
      Initiation: {
        CreditorAccount: { SchemeName: 'UK.OBIE.SortCodeAccountNumber', Identification: '08080021325699', Name: 'ACME Savings' },
        RemittanceInformation: { Reference: 'SWEEP' },
        ...initiation,
      },
    },
    Risk: {},
  };
}

/**
 * A commercial VRP (cVRP, UK OB `VRPType.Other`) consent: Acme Streaming takes up to £30 a payment and
 * £60 a calendar month, with the customer absent, described by the Risk block's merchant indicators.
 * A Risk key given as undefined is left out.
 */
export function commercialVrpRequest(controlParameters: Record<string, unknown> = {}, risk: Record<string, unknown> = {}) {
  const request = domesticVrpRequest(
    {
      VRPType: ['UK.OBIE.VRPType.Other'],
      PSUInteractionTypes: ['OffSession'],
      MaximumIndividualAmount: { Amount: '30.00', Currency: 'GBP' },
      PeriodicLimits: [{ Amount: '60.00', Currency: 'GBP', PeriodType: 'Month', PeriodAlignment: 'Calendar' }],
      ...controlParameters,
    },
    {
      CreditorAccount: { SchemeName: 'UK.OBIE.SortCodeAccountNumber', Identification: '40400412345678', Name: 'Acme Streaming' },
      RemittanceInformation: { Reference: 'ACME-SUB-42' },
    },
  );
  return {
    ...request,
    Risk: {
      PaymentContextCode: 'BillingGoodsAndServicesInAdvance',
      MerchantCategoryCode: '5815',
      MerchantCustomerIdentification: 'CUST-0042',
      ContractPresentInidicator: true,
      BeneficiaryPrepopulatedIndicator: true,
      ...risk,
    },
  };
}

/** UK OB v4.0's domestic VRP consents, under v4.0's `/pisp` (test/uk-ob-v4/vrp-consents-v4.test.ts). */
export const DOMESTIC_VRP_V4 = `${OB_V4_API_PREFIX}${V4_CONSENT_API_PATHS.domestic_vrp}`;

/**
 * A v4.0 sweeping VRP consent (OBDomesticVRPConsentRequest): domesticVrpRequest's terms, the reference in
 * ISO 20022's Structured remittance, an UltimateCreditor the model does not hold (ignored), a v4.0 Risk.
 */
export function domesticVrpRequestV4(
  controlParameters: Record<string, unknown> = {},
  initiation: Record<string, unknown> = {},
  risk: Record<string, unknown> = {},
) {
  const { Data } = domesticVrpRequest(controlParameters);
  return {
    Data: {
      ...Data,
      Initiation: {
        CreditorAccount: Data.Initiation.CreditorAccount,
        RemittanceInformation: {
          Structured: [{ CreditorReferenceInformation: { Reference: 'SWEEP' } }],
          Unstructured: ['Monthly sweep to savings'],
        },
        UltimateCreditor: { Name: 'ACME Savings Ltd' },
        ...initiation,
      },
    },
    Risk: { PaymentContextCode: 'TransferToSelf', ...risk },
  };
}

/** commercialVrpRequest in v4.0's words: Acme Streaming, its merchant indicators with `ContractPresentIndicator` spelled right. */
export function commercialVrpRequestV4(controlParameters: Record<string, unknown> = {}, risk: Record<string, unknown> = {}) {
  return domesticVrpRequestV4(
    {
      VRPType: ['UK.OBIE.VRPType.Other'],
      PSUInteractionTypes: ['OffSession'],
      MaximumIndividualAmount: { Amount: '30.00', Currency: 'GBP' },
      PeriodicLimits: [{ Amount: '60.00', Currency: 'GBP', PeriodType: 'Month', PeriodAlignment: 'Calendar' }],
      ...controlParameters,
    },
    {
      CreditorAccount: { SchemeName: 'UK.OBIE.SortCodeAccountNumber', Identification: '40400412345678', Name: 'Acme Streaming' },
      RemittanceInformation: { Structured: [{ CreditorReferenceInformation: { Reference: 'ACME-SUB-42' } }] },
    },
    {
      PaymentContextCode: 'BillingGoodsAndServicesInAdvance',
      MerchantCategoryCode: '5815',
      MerchantCustomerIdentification: 'CUST-0042',
      ContractPresentIndicator: true,
      BeneficiaryPrepopulatedIndicator: true,
      ...risk,
    },
  );
}

/** How many consents the database holds, of any kind and status. */
export async function consentCount(db: Db): Promise<number> {
  const { n } = await db
    .selectFrom('consent')
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  return Number(n);
}
