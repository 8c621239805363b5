import { z } from 'zod';
import { instantField } from '../admin-instant.ts';
import { auditHistory } from '../../audit/audit-trail.ts';
import { ConsentNotFound } from '../../consents/consent-errors.ts';
import { getConsent, revokeConsent, searchConsents } from '../../consents/consent-service.ts';
import { CONSENT_STATUSES, IllegalConsentTransition } from '../../consents/consent-status.ts';
import { lookUpCustomer } from '../../customers/customer-administration.ts';
import { CONSENT_STANDARDS, CONSENT_TYPES } from '../../protocol/consent-types.ts';
import { actorOf, AdminError, operation, reasonField } from '../admin-operation.ts';

const consentId = z.uuid().describe('the consent id');

const search = operation({
  name: 'consent:search',
  summary: 'finds consents by customer, TPP, type, standard (the version that created it), status and creation date (newest first)',
  method: 'GET',
  path: '/consents',
  input: z.object({
    customer: z.string().min(1).max(200).optional().describe('customer id or username'),
    tpp: z.string().min(1).max(200).optional().describe('TPP client id'),
    type: z.enum(CONSENT_TYPES).optional(),
    standard: z.enum(CONSENT_STANDARDS).optional().describe('the dialect the consent was created in: uk_ob_v3, uk_ob_v4, berlin_group'),
    status: z.enum(CONSENT_STATUSES as [string, ...string[]]).optional(),
    from: instantField('created at or after').optional(),
    to: instantField('created before').optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  }),
  async run({ db }, input) {
    const customer = input.customer === undefined ? undefined : await lookUpCustomer(db, input.customer);
    if (input.customer !== undefined && !customer) throw new AdminError('not_found', `no customer ${input.customer}`);
    return searchConsents(db, {
      ...(customer && { customerId: customer.id }),
      ...(input.tpp && { clientId: input.tpp }),
      ...(input.type && { type: input.type }),
      ...(input.standard && { standard: input.standard }),
      ...(input.status && { status: input.status as (typeof CONSENT_STATUSES)[number] }),
      ...(input.from && { createdFrom: input.from }),
      ...(input.to && { createdTo: input.to }),
      limit: input.limit,
    });
  },
});

const show = operation({
  name: 'consent:show',
  summary: 'shows a consent with its full audit history',
  method: 'GET',
  path: '/consents/:consentId',
  input: z.object({ consentId }),
  positionals: ['consentId'],
  async run({ db }, input) {
    const consent = await getConsent(db, input.consentId);
    if (!consent) throw new AdminError('not_found', `no consent ${input.consentId}`);
    return { ...consent, history: await auditHistory(db, 'consent', consent.id) };
  },
});

const revoke = operation({
  name: 'consent:revoke',
  summary: 'revokes an Authorised consent with a reason; its grant and tokens die now',
  method: 'POST',
  path: '/consents/:consentId/revoke',
  input: z.object({ consentId, reason: reasonField }),
  positionals: ['consentId'],
  async run({ db, operator }, input) {
    try {
      return await revokeConsent(db, { consentId: input.consentId, actor: actorOf(operator), reason: input.reason });
    } catch (error) {
      if (error instanceof ConsentNotFound) throw new AdminError('not_found', `no consent ${input.consentId}`, { cause: error });
      if (error instanceof IllegalConsentTransition)
        throw new AdminError('conflict', `consent ${input.consentId} is ${error.from}: only an Authorised consent can be revoked`, {
          cause: error,
        });
      throw error;
    }
  },
});

export const consentOperations = [search, show, revoke];
