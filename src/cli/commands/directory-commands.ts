import type { TppRole } from '../../db/schema.ts';
import { issueDevSoftwareStatement } from '../../tpp/dev-directory.ts';
import { TPP_ROLES } from '../../tpp/roles.ts';
import { type LocalCommand, UsageError } from '../admin-command.ts';

function parseRoles(value: unknown): TppRole[] {
  const roles =
    typeof value === 'string'
      ? value
          .split(',')
          .map((role) => role.trim().toUpperCase())
          .filter(Boolean)
      : [];
  if (roles.length === 0 || roles.some((role) => !(TPP_ROLES as readonly string[]).includes(role))) {
    throw new UsageError(`--roles must be a comma-separated list of ${TPP_ROLES.join(', ')}`);
  }
  return roles as TppRole[];
}

export const issueSsaCommand: LocalCommand = {
  name: 'directory:issue-ssa',
  usage:
    'directory:issue-ssa --name <TPP name> --roles AISP,PISP --redirect-uri <https URL> [--redirect-uri ...] [--logo-uri <https URL>] [--org-id <id>]',
  summary: 'signs a software statement with the dev directory key; writes the TPP key and client certificate',
  devOnly: true,
  options: {
    name: { type: 'string' },
    roles: { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true },
    'logo-uri': { type: 'string' },
    'org-id': { type: 'string' },
  },
  async run({ config }, { values }) {
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
    return issued;
  },
};
