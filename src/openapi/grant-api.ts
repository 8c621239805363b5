import { z } from 'zod';
import { CONSENT_TYPES } from '../protocol/consent-types.ts';
import { type ApiPart, jsonBody, jsonSchema } from './api-part.ts';

/** FAPI Grant Management: a client reads or revokes one of its own grants; errors are OAuth JSON. */

const grant = z.object({
  scopes: z.array(z.object({ scope: z.string(), resource: z.array(z.string()).optional() })),
  claims: z.array(z.string()),
  authorization_details: z.array(z.looseObject({ type: z.string() })),
  consents: z
    .array(z.looseObject({ consent_id: z.string(), consent_type: z.enum(CONSENT_TYPES), consent_status: z.string() }))
    .describe("Assent's addition: the consents the grant holds, as introspection describes them"),
});

const error = (description: string) => ({ description, content: jsonBody('OAuthError') });
const FAILURES = {
  '401': error(
    'invalid_token, invalid_dpop_proof or use_dpop_nonce (WWW-Authenticate says why; DPoP-Nonce carries the nonce to retry with)',
  ),
  '403': error('insufficient_scope'),
  '404': error('invalid_grant_id: no such grant of this client'),
};

export const grantApi: ApiPart = {
  tag: 'Grant Management',
  description: 'FAPI Grant Management for OAuth 2.0: what a grant holds, and its revocation with every consent and token in it',
  schemas: { Grant: jsonSchema(grant, 'output') },
  operations: {
    getGrant: { responses: { '200': { description: 'what the grant holds now', content: jsonBody('Grant') }, ...FAILURES } },
    revokeGrant: { responses: { '204': { description: 'revoked: its consents are Revoked and its tokens inactive' }, ...FAILURES } },
  },
};
