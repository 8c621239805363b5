import type { TppRole } from '../db/schema.ts';

export const TPP_ROLES = ['AISP', 'PISP', 'CBPII'] as const satisfies readonly TppRole[];

/** What each regulated role may ask a customer for. */
const ROLE_SCOPES: Record<TppRole, string> = {
  AISP: 'accounts',
  PISP: 'payments',
  CBPII: 'fundsconfirmations',
};

/** The client's `scope` metadata: oidc-provider refuses any scope outside it. */
export function scopesForRoles(roles: readonly TppRole[]): string[] {
  return ['openid', ...TPP_ROLES.filter((role) => roles.includes(role)).map((role) => ROLE_SCOPES[role])];
}
