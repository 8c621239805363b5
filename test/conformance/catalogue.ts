import type { CatalogueModule } from '../support/conformance.ts';
import { CIBA_PLAN } from './plans/fapi-ciba.ts';
import { GRANT_MANAGEMENT_PLAN } from './plans/grant-management.ts';
import { MESSAGE_SIGNING_PLAN } from './plans/fapi2-message-signing.ts';
import { SECURITY_PROFILE_PLAN } from './plans/fapi2-security-profile.ts';

/** Every module of every plan Assent is held to, in the suite's order: the rows of docs/conformance.md. */
export const CATALOGUE: readonly CatalogueModule[] = [
  ...SECURITY_PROFILE_PLAN,
  ...MESSAGE_SIGNING_PLAN,
  ...CIBA_PLAN,
  ...GRANT_MANAGEMENT_PLAN,
];
