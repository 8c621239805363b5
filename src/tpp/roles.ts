import type { TppRole } from '../db/schema.ts';
import { GRANT_MANAGEMENT_SCOPES, SCOPE, SCOPE_OF } from '../protocol/scopes.ts';

export const TPP_ROLES = ['AISP', 'PISP', 'CBPII'] as const satisfies readonly TppRole[];

/** What each regulated role may ask a customer for. */
const ROLE_SCOPES: Record<TppRole, string> = {
  AISP: SCOPE_OF.account_access,
  PISP: SCOPE_OF.domestic_payment,
  CBPII: SCOPE_OF.funds_confirmation,
};

/**
 * The client's `scope` metadata: oidc-provider refuses any scope outside it. Every TPP may manage its
 * own grants (FAPI Grant Management), whatever its roles.
 */
export function scopesForRoles(roles: readonly TppRole[]): string[] {
  return [SCOPE.openid, ...TPP_ROLES.filter((role) => roles.includes(role)).map((role) => ROLE_SCOPES[role]), ...GRANT_MANAGEMENT_SCOPES];
}
