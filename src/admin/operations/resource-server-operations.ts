import type { JWK } from 'jose';
import { z } from 'zod';
import { createResourceServer, disableResourceServer, listResourceServers } from '../../tpp/resource-servers.ts';
import { AdminError, operation, reasonField } from '../admin-operation.ts';

const jwks = z
  .string()
  .transform((value, context) => {
    try {
      return JSON.parse(value) as unknown;
    } catch {
      context.addIssue({ code: 'custom', message: 'must be a JSON Web Key Set' });
      return z.NEVER;
    }
  })
  .pipe(z.object({ keys: z.array(z.looseObject({ kty: z.string() }).refine((key) => !('d' in key), 'public keys only')).min(1) }));

const create = operation({
  name: 'rs:create',
  summary: 'registers a bank resource server (introspection and bank consent API) by public JWKS or certificate subject DN',
  method: 'POST',
  path: '/resource-servers',
  input: z
    .object({
      name: z.string().trim().min(1).max(200),
      jwks: jwks.optional().describe('public JWKS (JSON)'),
      subjectDn: z.string().min(1).max(1000).optional(),
    })
    .refine((input) => (input.jwks === undefined) !== (input.subjectDn === undefined), {
      message: 'give a JWKS (--jwks-file) or --subject-dn, not both',
    }),
  async run({ db, operator }, input) {
    const auth = input.subjectDn
      ? { method: 'tls_client_auth' as const, subjectDn: input.subjectDn }
      : { method: 'private_key_jwt' as const, jwks: input.jwks as { keys: JWK[] } };
    const { clientId } = await createResourceServer(db, { name: input.name, auth, operator: operator.id });
    return { client_id: clientId, token_endpoint_auth_method: auth.method };
  },
});

const list = operation({
  name: 'rs:list',
  summary: 'lists the registered resource servers',
  method: 'GET',
  path: '/resource-servers',
  input: z.object({}),
  run: ({ db }) => listResourceServers(db),
});

const disable = operation({
  name: 'rs:disable',
  summary: 'removes a resource server: its tokens die now and it can no longer authenticate',
  method: 'POST',
  path: '/resource-servers/:clientId/disable',
  input: z.object({ clientId: z.string().min(1).max(200), reason: reasonField }),
  positionals: ['clientId'],
  async run({ db, operator }, input) {
    const disabled = await disableResourceServer(db, input.clientId, { operator: operator.id, reason: input.reason });
    if (!disabled) throw new AdminError('not_found', `no resource server ${input.clientId}`);
    return disabled;
  },
});

export const resourceServerOperations = [create, list, disable];
