import { userInfo } from 'node:os';
import type { TppRole } from '../../db/schema.ts';
import { auditHistory } from '../../audit/audit-trail.ts';
import { issueDevSoftwareStatement } from '../../tpp/dev-directory.ts';
import { TPP_ROLES } from '../../tpp/roles.ts';
import { getTppProfile, listTpps, reinstateTpp, suspendTpp, TppStateError } from '../../tpp/tpp-service.ts';
import { type AdminCommand, UsageError } from '../admin-command.ts';

const operator = () => ({ kind: 'operator' as const, id: userInfo().username });
const print = (out: (line: string) => void, value: unknown) => out(JSON.stringify(value, null, 2));

function clientIdOf(positionals: string[]) {
  const [clientId] = positionals;
  if (!clientId) throw new UsageError('the TPP client id is required');
  return clientId;
}

/** Operator mistakes (unknown TPP, wrong state) are usage errors, not crashes. */
async function asUsage<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof TppStateError) throw new UsageError(error.message, { cause: error });
    throw error;
  }
}

const list: AdminCommand = {
  name: 'tpp:list',
  usage: 'tpp:list',
  summary: 'lists onboarded TPPs with their roles and status',
  async run({ db, out }) {
    const tpps = await listTpps(db);
    print(out, tpps.map(({ clientId, name, roles, status, orgId, softwareId }) => ({ clientId, name, roles, status, orgId, softwareId })));
  },
};

const show: AdminCommand = {
  name: 'tpp:show',
  usage: 'tpp:show <client id>',
  summary: 'shows a TPP and its audit history',
  async run({ db, out }, { positionals }) {
    const clientId = clientIdOf(positionals);
    const profile = await getTppProfile(db, clientId);
    if (!profile) throw new UsageError(`no TPP with client id ${clientId}`);
    print(out, { ...profile, history: await auditHistory(db, 'tpp', clientId) });
  },
};

const suspend: AdminCommand = {
  name: 'tpp:suspend',
  usage: 'tpp:suspend <client id> --reason <text>',
  summary: 'suspends a TPP: its grants and tokens die now, its calls fail',
  options: { reason: { type: 'string' } },
  async run({ db, out }, { positionals, values }) {
    const clientId = clientIdOf(positionals);
    if (typeof values.reason !== 'string' || values.reason.trim() === '') throw new UsageError('--reason is required');
    print(out, await asUsage(suspendTpp(db, clientId, { reason: values.reason.trim(), actor: operator() })));
  },
};

const reinstate: AdminCommand = {
  name: 'tpp:reinstate',
  usage: 'tpp:reinstate <client id> [--reason <text>]',
  summary: 'lifts a suspension (tokens revoked by it stay revoked)',
  options: { reason: { type: 'string' } },
  async run({ db, out }, { positionals, values }) {
    const clientId = clientIdOf(positionals);
    const reason = typeof values.reason === 'string' ? values.reason : undefined;
    print(out, await asUsage(reinstateTpp(db, clientId, { ...(reason && { reason }), actor: operator() })));
  },
};

function parseRoles(value: unknown): TppRole[] {
  const roles = typeof value === 'string' ? value.split(',').map((role) => role.trim().toUpperCase()).filter(Boolean) : [];
  if (roles.length === 0 || roles.some((role) => !(TPP_ROLES as readonly string[]).includes(role))) {
    throw new UsageError(`--roles must be a comma-separated list of ${TPP_ROLES.join(', ')}`);
  }
  return roles as TppRole[];
}

const issueSsa: AdminCommand = {
  name: 'directory:issue-ssa',
  usage: 'directory:issue-ssa --name <TPP name> --roles AISP,PISP --redirect-uri <https URL> [--redirect-uri ...] [--logo-uri <https URL>] [--org-id <id>]',
  summary: 'signs a software statement with the dev directory key; writes the TPP key and client certificate',
  devOnly: true,
  database: false,
  options: {
    name: { type: 'string' },
    roles: { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true },
    'logo-uri': { type: 'string' },
    'org-id': { type: 'string' },
  },
  async run({ config, out }, { values }) {
    if (typeof values.name !== 'string' || values.name.trim() === '') throw new UsageError('--name is required');
    const redirectUris = (values['redirect-uri'] as string[] | undefined) ?? [];
    if (redirectUris.length === 0) throw new UsageError('at least one --redirect-uri is required');
    const issued = await issueDevSoftwareStatement(config.dataDir, {
      name: values.name.trim(),
      roles: parseRoles(values.roles),
      redirectUris,
      ...(typeof values['logo-uri'] === 'string' && { logoUri: values['logo-uri'] }),
      ...(typeof values['org-id'] === 'string' && { orgId: values['org-id'] }),
    });
    print(out, issued);
  },
};

export const tppCommands = [list, show, suspend, reinstate, issueSsa];
