import type { CatalogueModule } from '../../support/conformance.ts';

/** The modules of the suite's `grant-management`, in its order. */
export const GRANT_MANAGEMENT_PLAN: readonly CatalogueModule[] = [];
