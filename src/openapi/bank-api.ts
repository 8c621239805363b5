import { z } from 'zod';
import { accessRecorded, accessRequest } from '../bank/consent-access-route.ts';
import { paymentRequest } from '../bank/vrp-payment-route.ts';
import { domesticVrpResponse } from '../consent-api/vrp-responses.ts';
import { CONSENT_STATUSES } from '../consents/consent-status.ts';
import { MERCHANT_CONTEXTS, VRP_PURPOSES } from '../consents/vrp/vrp-terms.ts';
import {
  ACCOUNT_REFERENCE_SCHEMES,
  CONSENT_STANDARDS,
  CONSENT_TYPES,
  ENDED_BY,
  PAYMENT_SCHEMES,
  READ_SCOPES,
} from '../protocol/consent-types.ts';
import { type ApiPart, header, jsonBody, jsonSchema } from './api-part.ts';
import { obError } from './consent-api.ts';

/** The bank's resource servers: the whole consent behind a token, consumption of payment consents, VRP payments, account accesses. */

const dateTime = z.iso.datetime({ offset: true });
const account = z.looseObject({ SchemeName: z.string(), Identification: z.string() });
/** The model's own account reference (docs/architecture.md, one consent model). */
const accountReference = z.object({
  scheme: z.enum(ACCOUNT_REFERENCE_SCHEMES),
  identification: z.string(),
  name: z.string().optional(),
  secondaryIdentification: z.string().optional(),
});
/** What may be read, of which accounts: null for the accounts the customer chose (AccountIds). */
export const readAccess = z.array(z.object({ scope: z.enum(READ_SCOPES), accounts: z.array(accountReference).nullable() }));
const bankConsent = z.object({
  Data: z.object({
    ConsentId: z.string(),
    ConsentType: z.enum(CONSENT_TYPES),
    Status: z.enum(CONSENT_STATUSES),
    StatusUpdateDateTime: dateTime,
    StatusReason: z.string().nullable(),
    CreationDateTime: dateTime,
    ClientId: z.string(),
    CustomerId: z.string().nullable(),
    Permissions: z.array(z.string()),
    AccountIds: z.array(z.string()),
    ExpirationDateTime: dateTime.nullable(),
    TransactionFromDateTime: dateTime.nullable(),
    TransactionToDateTime: dateTime.nullable(),
    DebtorAccount: account.nullable(),
    Initiation: z
      .looseObject({
        InstructionIdentification: z.string().nullable().describe('null for a SEPA payment (Berlin Group), which has none'),
        EndToEndIdentification: z.string().nullable().describe('null for a SEPA payment whose TPP gave none'),
        InstructedAmount: z.object({ Amount: z.string(), Currency: z.string() }),
        CreditorAccount: account,
        CreditorAgent: z.string().optional().describe("the payee's bank (a BIC), when the payment names it (SEPA)"),
        RequestedExecutionDate: z.iso
          .date()
          .optional()
          .describe('the bank date a future-dated payment is to be made on (SEPA); absent: as soon as possible'),
      })
      .nullable(),
    ControlParameters: domesticVrpResponse.shape.Data.shape.ControlParameters.optional(),
    VrpInitiation: domesticVrpResponse.shape.Data.shape.Initiation.optional(),
    VrpPurpose: z
      .enum(VRP_PURPOSES)
      .optional()
      .describe('a VRP: sweeping between the customer’s own accounts, or commercial (paying a merchant)'),
    Merchant: z
      .object({
        name: z.string(),
        categoryCode: z.string().describe('ISO 18245'),
        customerReference: z.string().optional(),
        context: z.enum(MERCHANT_CONTEXTS),
        contractWithTpp: z.boolean().optional(),
        payeePrefilled: z.boolean().optional(),
      })
      .optional()
      .describe('a commercial VRP: the merchant it pays'),
    PayingAccount: accountReference.nullable().describe('a payment or VRP once authorised: the account it pays from'),
    Standard: z.enum(CONSENT_STANDARDS).describe('the dialect the consent was created in'),
    Access: readAccess.describe('the consent model: what may be read, of which accounts (null: the accounts the customer chose)'),
    EndedBy: z.enum(ENDED_BY).nullable().describe('who ended a Revoked or Rejected consent; null while it lives or when not known'),
    PaymentScheme: z
      .enum(PAYMENT_SCHEMES)
      .nullable()
      .describe('how a single payment moves (uk_domestic, sepa_credit_transfer, sepa_instant_credit_transfer); null for other consents'),
  }),
  Risk: z.looseObject({}),
});

const period = z.object({
  PeriodType: z.string(),
  PeriodAlignment: z.string(),
  Currency: z.string(),
  Limit: z.string(),
  PeriodStartDateTime: dateTime,
  PeriodEndDateTime: dateTime,
  Paid: z.string(),
  Remaining: z.string(),
});
const paymentAccepted = z.object({
  Data: z.object({
    PaymentId: z.string(),
    ConsentId: z.string(),
    CreationDateTime: dateTime,
    InstructedAmount: z.object({ Amount: z.string(), Currency: z.string() }),
    Periods: z.array(period).describe("each periodic limit's current period after this payment"),
    Status: z.literal('Accepted'),
  }),
});

/** The Berlin Group envelope of ACCESS_EXCEEDED, passed on by the resource server to the TPP as it is. */
const accessExceeded = z.object({
  tppMessages: z.array(z.object({ category: z.literal('ERROR'), code: z.literal('ACCESS_EXCEEDED'), text: z.string() })),
});

const FAILURES = {
  '401': obError('missing, inactive or wrongly bound access token'),
  '403': obError("not a resource server's token with the bank scope"),
  '404': obError('no such consent'),
};
const CONSENT = { description: 'the whole consent', content: jsonBody('BankConsent') };

export const bankApi: ApiPart = {
  tag: 'bank API',
  description: "For the bank's own resource servers (clients of kind resource_server with the bank scope)",
  schemas: {
    BankConsent: jsonSchema(bankConsent, 'output'),
    VrpPaymentRequest: jsonSchema(paymentRequest, 'input'),
    VrpPaymentAccepted: jsonSchema(paymentAccepted, 'output'),
    ConsentAccessRequest: jsonSchema(accessRequest, 'input'),
    ConsentAccessRecorded: jsonSchema(accessRecorded, 'output'),
    BgAccessExceeded: jsonSchema(accessExceeded, 'output'),
  },
  operations: {
    getBankConsent: { responses: { '200': CONSENT, ...FAILURES } },
    consumePaymentConsent: {
      description: 'Exactly one caller consumes an Authorised single-use payment consent; its grant and tokens end with it.',
      responses: {
        '200': CONSENT,
        '400': obError('UK.OBIE.Resource.InvalidConsentStatus: not an Authorised payment consent'),
        ...FAILURES,
      },
    },
    decideVrpPayment: {
      description:
        'Asked before each payment under a VRP consent. A repeated x-idempotency-key answers as the first time did (x-idempotent-replay: true).',
      parameters: [header('x-idempotency-key', true, 'one payment, one key')],
      requestBody: { required: true, content: jsonBody('VrpPaymentRequest') },
      responses: {
        '201': { description: 'accepted, with what remains of each limit', content: jsonBody('VrpPaymentAccepted') },
        '400': obError('refused: UK.OBIE.Rules.FailsControlParameters naming the limit, or UK.OBIE.Resource.InvalidConsentStatus'),
        ...FAILURES,
      },
    },
    recordConsentAccess: {
      description:
        "Asked before each account access under an account-access consent. With PSU-IP-Address (the customer is present) the access is recorded but not counted; without it, it counts against the consent's frequencyPerDay on the bank's day (BANK_TIME_ZONE).",
      parameters: [header('PSU-IP-Address', false, "the customer's IP address as the TPP gave it: the customer is present")],
      requestBody: { required: true, content: jsonBody('ConsentAccessRequest') },
      responses: {
        '201': { description: "recorded, with today's count", content: jsonBody('ConsentAccessRecorded') },
        '400': obError(
          'a bad body or PSU-IP-Address; UK.OBIE.Resource.InvalidConsentStatus (not Authorised, or expired); UK.OBIE.Resource.ConsentMismatch (not an account-access consent)',
        ),
        '429': {
          description: "ACCESS_EXCEEDED (Berlin Group's envelope): frequencyPerDay is used up for today; nothing recorded",
          content: jsonBody('BgAccessExceeded'),
        },
        ...FAILURES,
      },
    },
  },
};
