import type { CatalogueModule, Variant } from '../../support/conformance.ts';

/**
 * Grant Management for OAuth 2.0 (FAPI, Implementer's Draft 01). The suite has no plan and no module for it
 * (no class of openid-certification/conformance-suite names grant_management), so these modules are named
 * after the draft's requirements in the suite's own convention (`grant-management-<what is checked>`), in the
 * draft's order: the authorization request's parameters (section 4.1), the token response (4.2), the Grant
 * Management API's query and revoke (5) and the metadata (6). They run for each client authentication with
 * its sender constraint, as the FAPI 2.0 plans' variants name them.
 */

export const GRANT_MANAGEMENT_VARIANTS: readonly Variant[] = [
  { client_auth_type: 'private_key_jwt', sender_constrain: 'dpop' },
  { client_auth_type: 'mtls', sender_constrain: 'mtls' },
];

const module = (name: string): CatalogueModule => ({ plan: 'grant-management', module: name, variants: GRANT_MANAGEMENT_VARIANTS });

/** The modules of `grant-management`, in the draft's order (no suite plan exists: see above). */
export const GRANT_MANAGEMENT_PLAN: readonly CatalogueModule[] = [
  module('grant-management-create-issues-new-grant'),
  module('grant-management-ensure-create-with-grant-id-fails'),
  module('grant-management-ensure-grant-id-without-action-fails'),
  module('grant-management-ensure-unknown-action-fails'),
  module('grant-management-ensure-merge-without-grant-id-fails'),
  module('grant-management-ensure-replace-without-grant-id-fails'),
  module('grant-management-ensure-unknown-grant-id-fails'),
  module('grant-management-ensure-other-clients-grant-id-fails'),
  module('grant-management-merge-adds-to-grant'),
  module('grant-management-ensure-merge-into-other-users-grant-fails'),
  module('grant-management-replace-replaces-grant'),
  module('grant-management-token-response-returns-grant-id'),
  module('grant-management-query-grant'),
  module('grant-management-ensure-query-without-access-token-fails'),
  module('grant-management-ensure-query-without-query-scope-fails'),
  module('grant-management-ensure-query-unknown-grant-fails'),
  module('grant-management-ensure-query-other-clients-grant-fails'),
  module('grant-management-revoke-grant'),
  module('grant-management-ensure-revoke-without-revoke-scope-fails'),
  module('grant-management-ensure-revoke-other-clients-grant-fails'),
  module('grant-management-discovery-metadata'),
];
