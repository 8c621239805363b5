import type { z } from 'zod';
import { CONSENT_API_PATHS } from '../protocol/routes.ts';
import type { Consent, ConsentType } from '../consents/consent.ts';
import { accountAccessRequest, domesticPaymentRequest, fundsConfirmationRequest } from '../uk-ob-v3/consent-request.ts';
import {
  accountAccessBody,
  accountAccessResponse,
  domesticPaymentBody,
  domesticPaymentResponse,
  fundsConfirmationBody,
  fundsConfirmationResponse,
} from './ob-responses.ts';
import { domesticVrpBody, domesticVrpResponse } from './vrp-responses.ts';
import { domesticVrpRequest } from '../uk-ob-v3/vrp-request.ts';

/** The three UK OB consent resources: where they live (under OB_API_PREFIX), what they accept and return. */
export interface ConsentResource {
  type: ConsentType;
  path: string;
  title: string;
  deletable: boolean;
  idempotencyRequired: boolean;
  request: z.ZodType;
  response: z.ZodType;
  body(consent: Consent, self: string): unknown;
}

export const CONSENT_RESOURCES: readonly ConsentResource[] = [
  {
    type: 'account_access',
    path: CONSENT_API_PATHS.account_access,
    title: 'Account access consent',
    deletable: true,
    idempotencyRequired: false,
    request: accountAccessRequest,
    response: accountAccessResponse,
    body: accountAccessBody,
  },
  {
    type: 'domestic_payment',
    path: CONSENT_API_PATHS.domestic_payment,
    title: 'Domestic payment consent',
    deletable: false,
    idempotencyRequired: true,
    request: domesticPaymentRequest,
    response: domesticPaymentResponse,
    body: domesticPaymentBody,
  },
  {
    type: 'funds_confirmation',
    path: CONSENT_API_PATHS.funds_confirmation,
    title: 'Funds confirmation consent',
    deletable: true,
    idempotencyRequired: false,
    request: fundsConfirmationRequest,
    response: fundsConfirmationResponse,
    body: fundsConfirmationBody,
  },
  {
    type: 'domestic_vrp',
    path: '/vrp/domestic-vrp-consents',
    title: 'Domestic VRP consent',
    deletable: true,
    idempotencyRequired: true,
    request: domesticVrpRequest,
    response: domesticVrpResponse,
    body: domesticVrpBody,
  },
];
