import { z } from 'zod';
import { auditHistory } from '../../audit/audit-trail.ts';
import { findClientMetadata } from '../../store/clients.ts';
import { getTppProfile, listTpps, reinstateTpp, suspendTpp, TppNotFound } from '../../tpp/tpp-service.ts';
import { actorOf, operation, reasonField } from '../admin-operation.ts';

const clientId = z.string().min(1).max(200).describe('the TPP client id');

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
      .map(({ clientId: id, name, roles, status: state, orgId, softwareId }) => ({
        clientId: id,
        name,
        roles,
        status: state,
        orgId,
        softwareId,
      }));
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
    if (!profile) throw new TppNotFound(input.clientId);
    return {
      ...profile,
      registration: (await findClientMetadata(db, input.clientId)) ?? null,
      history: await auditHistory(db, 'tpp', input.clientId),
    };
  },
});

const suspend = operation({
  name: 'tpp:suspend',
  summary: 'suspends a TPP: its grants and tokens die now, its calls fail',
  method: 'POST',
  path: '/tpps/:clientId/suspend',
  input: z.object({ clientId, reason: reasonField }),
  positionals: ['clientId'],
  run: ({ db, operator }, input) => suspendTpp(db, input.clientId, { reason: input.reason, actor: actorOf(operator) }),
});

const reinstate = operation({
  name: 'tpp:reinstate',
  summary: 'lifts a suspension (tokens revoked by it stay revoked)',
  method: 'POST',
  path: '/tpps/:clientId/reinstate',
  input: z.object({ clientId, reason: reasonField.optional() }),
  positionals: ['clientId'],
  run: ({ db, operator }, input) =>
    reinstateTpp(db, input.clientId, { ...(input.reason && { reason: input.reason }), actor: actorOf(operator) }),
});

export const tppOperations = [list, show, suspend, reinstate];
