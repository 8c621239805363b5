import { z } from 'zod';
import { approvalBody } from '../ciba/device-router.ts';
import { type ApiPart, jsonBody, jsonSchema } from './api-part.ts';

/**
 * The customer's side of CIBA for a bank's own app: the pending decoupled requests, approved with the
 * one-time code or denied, with the customer's dashboard session (src/ciba/device-router.ts).
 */

const words = z.string().describe("in the customer's language (Accept-Language or the lang cookie), as on the consent page");
const decoupledRequests = z.object({
  requests: z.array(
    z.object({
      id: z.uuid(),
      tpp: z.object({ name: z.string(), logoUri: z.string().nullable().optional() }),
      binding_message: z.string().describe('the message the TPP shows on its own device; the customer checks that they match'),
      expires_at: z.iso.datetime(),
      consent: z.object({
        id: z.string(),
        heading: words,
        permission_groups: z.array(z.looseObject({ heading: z.string() })),
        duration: words,
        payment: z.looseObject({ amount: z.string() }).nullable(),
        vrp: z.looseObject({}).nullable(),
        debtor_account: z.string().nullable(),
      }),
      accounts: z.object({
        choose: z.enum(['one', 'one_or_more']),
        legend: words,
        options: z.array(z.object({ id: z.string(), label: words })),
      }),
      payment_digest: z
        .string()
        .nullable()
        .describe('for a payment: send it back with the approval, so the code approves exactly the payment shown'),
    }),
  ),
});
const decided = z.object({ status: z.enum(['approved', 'denied']) });
const refusal = z.object({
  error: z.enum([
    'not_found',
    'already_decided',
    'invalid_code',
    'code_reused',
    'payment_changed',
    'invalid_accounts',
    'consent_unavailable',
    'locked',
    'login_required',
    'invalid_request',
  ]),
  error_description: words,
});

const error = (description: string) => ({ description, content: jsonBody('DecoupledRefusal') });
const COMMON = {
  '401': error('login_required: no dashboard session'),
  '404': error('not_found: no such request of this customer'),
  '409': error('already_decided (decided or expired: nothing changed), payment_changed, consent_unavailable'),
  '415': error('invalid_request: the body is not application/json'),
};

export const decoupledApi: ApiPart = {
  tag: 'Decoupled authentication',
  description:
    "CIBA for the customer's own device: a bank's app lists the decoupled requests waiting for the signed-in customer and approves (one-time code) or denies them",
  schemas: {
    DecoupledRequests: jsonSchema(decoupledRequests, 'output'),
    DecoupledApproval: jsonSchema(approvalBody, 'input'),
    DecoupledDecision: jsonSchema(decided, 'output'),
    DecoupledRefusal: jsonSchema(refusal, 'output'),
  },
  operations: {
    listDecoupledRequests: {
      responses: {
        '200': { description: 'the requests waiting for this customer, oldest first', content: jsonBody('DecoupledRequests') },
        '401': COMMON['401'],
      },
    },
    approveDecoupledRequest: {
      requestBody: { required: true, content: jsonBody('DecoupledApproval') },
      responses: {
        '200': { description: 'approved: the TPP gets its tokens', content: jsonBody('DecoupledDecision') },
        '400': error('invalid_code (not 6 digits), invalid_accounts, invalid_request'),
        '403': error('invalid_code or code_reused'),
        '429': error('locked: too many wrong codes (Retry-After)'),
        ...COMMON,
      },
    },
    denyDecoupledRequest: {
      requestBody: { required: true, content: { 'application/json': { schema: { type: 'object' } } } },
      responses: {
        '200': { description: 'denied: the consent is Rejected and the TPP hears access_denied', content: jsonBody('DecoupledDecision') },
        ...COMMON,
      },
    },
  },
};
