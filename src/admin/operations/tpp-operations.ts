import { z } from 'zod';
import { auditHistory } from '../../audit/audit-trail.ts';
import { findClientMetadata } from '../../store/clients.ts';
import { getTppProfile, listTpps, reinstateTpp, suspendTpp, TppStateError } from '../../tpp/tpp-service.ts';
import { actorOf, AdminError, operation, reasonField } from '../admin-operation.ts';

const clientId = z.string().min(1).max(200).describe('the TPP client id');

/** Unknown TPP or wrong state: the operator's mistake, said in one line. */
async function asAdminError<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof TppStateError) throw new AdminError(error.message.startsWith('no TPP') ? 'not_found' : 'conflict', error.message, { cause: error });
    throw error;
  }
}

const list = operation({
  name: 'tpp:list',
  summary: 'lists onboarded TPPs with their roles and status',
  method: 'GET',
  path: '/tpps',
  input: z.object({ status: z.enum(['active', 'suspended', 'deleted']).optional() }),
  async run({ db }, { status }) {
    const tpps = await listTpps(db);
    return tpps
      .filter((tpp) => !status || tpp.status === status)
      .map(({ clientId: id, name, roles, status: state, orgId, softwareId }) => ({ clientId: id, name, roles, status: state, orgId, softwareId }));
  },
});

const show = operation({
  name: 'tpp:show',
  summary: 'shows a TPP: its profile, its current registration and its audit history (every registration change)',
  method: 'GET',
  path: '/tpps/:clientId',
  input: z.object({ clientId }),
  positionals: ['clientId'],
  async run({ db }, input) {
    const profile = await getTppProfile(db, input.clientId);
    if (!profile) throw new AdminError('not_found', `no TPP with client id ${input.clientId}`);
    return { ...profile, registration: (await findClientMetadata(db, input.clientId)) ?? null, history: await auditHistory(db, 'tpp', input.clientId) };
  },
});

const suspend = operation({
  name: 'tpp:suspend',
  summary: 'suspends a TPP: its grants and tokens die now, its calls fail',
  method: 'POST',
  path: '/tpps/:clientId/suspend',
  input: z.object({ clientId, reason: reasonField }),
  positionals: ['clientId'],
  run: ({ db, operator }, input) => asAdminError(suspendTpp(db, input.clientId, { reason: input.reason, actor: actorOf(operator) })),
});

const reinstate = operation({
  name: 'tpp:reinstate',
  summary: 'lifts a suspension (tokens revoked by it stay revoked)',
  method: 'POST',
  path: '/tpps/:clientId/reinstate',
  input: z.object({ clientId, reason: reasonField.optional() }),
  positionals: ['clientId'],
  run: ({ db, operator }, input) => asAdminError(reinstateTpp(db, input.clientId, { ...(input.reason && { reason: input.reason }), actor: actorOf(operator) })),
});

export const tppOperations = [list, show, suspend, reinstate];
