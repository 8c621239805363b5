import type { ConsentType } from '../protocol/consent-types.ts';
import { SCOPE_OF } from '../protocol/scopes.ts';

/**
 * Which consent types a TPP may create. Until TPP roles (AISP, PISP, CBPII) are registered, the
 * client's registered scope stands in for its roles; this is the one place to consult them instead.
 */
export function mayCreateConsents(registeredScope: ReadonlySet<string>, type: ConsentType): boolean {
  return registeredScope.has(SCOPE_OF[type]);
}
