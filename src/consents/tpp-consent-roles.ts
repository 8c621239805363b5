import type { ConsentType } from '../protocol/consent-types.ts';
import { SCOPE_OF } from '../protocol/scopes.ts';

/**
 * Which consent types a TPP may create. Registration turns the TPP's roles (AISP, PISP, CBPII, from its
 * software statement) into its registered scope (tpp/roles.ts), so the registered scope is what says
 * which consents it may create, also for clients seeded without a statement (the demo TPP).
 */
export function mayCreateConsents(registeredScope: ReadonlySet<string>, type: ConsentType): boolean {
  return registeredScope.has(SCOPE_OF[type]);
}
