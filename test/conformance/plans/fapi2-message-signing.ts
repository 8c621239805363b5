import type { CatalogueModule } from '../../support/conformance.ts';

/** The modules of the suite's `fapi2-message-signing-final-test-plan`, in its order. */
export const MESSAGE_SIGNING_PLAN: readonly CatalogueModule[] = [];
