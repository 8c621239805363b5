import type { CatalogueModule } from '../../support/conformance.ts';

/** The modules of the suite's `fapi-ciba-id1-test-plan`, in its order. */
export const CIBA_PLAN: readonly CatalogueModule[] = [];
