import type { CatalogueModule } from '../../support/conformance.ts';

/** The modules of the suite's `fapi2-security-profile-final-test-plan`, in its order. */
export const SECURITY_PROFILE_PLAN: readonly CatalogueModule[] = [];
