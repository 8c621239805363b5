import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import { AssentError } from '../protocol/assent-error.ts';
import { GRANTS_PATH } from '../protocol/routes.ts';

/**
 * FAPI Grant Management for OAuth 2.0 (draft 01): the facts in one place. A client names what an
 * authorization does to its grants with `grant_management_action` (and `grant_id`) at PAR; the token
 * response returns `grant_id`; the grant management endpoint answers GET (what the grant holds) and
 * DELETE (revoke it) for tokens with the query / revoke scopes.
 */

export const GRANT_MANAGEMENT_ACTIONS = ['create', 'merge', 'replace'] as const;
export type GrantManagementAction = (typeof GRANT_MANAGEMENT_ACTIONS)[number];

/** The draft's authorization server metadata. Clients may omit the action: Assent then creates a grant. */
export function grantManagementDiscovery(issuer: string) {
  return {
    grant_management_actions_supported: [...GRANT_MANAGEMENT_ACTIONS],
    grant_management_endpoint: `${issuer}${GRANTS_PATH}`,
    grant_management_action_required: false,
  };
}

/** The draft's error for a grant_id that names no grant of this client. */
export class InvalidGrantId extends errors.CustomOIDCProviderError {
  constructor(description = 'grant_id does not name a grant of this client') {
    super('invalid_grant_id', description);
  }
}

/** A merge or replace the customer's approval cannot make: the grant is gone, or is another customer's. */
export class GrantNotMergeable extends AssentError {
  override name = 'GrantNotMergeable';
  constructor() {
    super('grant_not_usable', 'the grant named by grant_id cannot take this authorisation', { status: 403 });
  }
}

export interface GrantManagementRequest {
  action: GrantManagementAction;
  grantId: string | undefined;
}

/** The grant management parameters of an authorization request (validated at PAR), `create` when absent. */
export function grantManagementOf(params: Record<string, unknown>): GrantManagementRequest {
  const action = (params.grant_management_action as GrantManagementAction | undefined) ?? 'create';
  return { action, grantId: typeof params.grant_id === 'string' ? params.grant_id : undefined };
}

/**
 * oidc-provider's `extraParams`: both parameters are accepted at PAR and the authorization endpoint,
 * and checked there: a known action, a grant_id exactly when merging or replacing, and a grant_id
 * that is one of this client's live grants.
 */
export function grantManagementParams() {
  return {
    grant_id: null,
    async grant_management_action(ctx: KoaContextWithOIDC, value: string | undefined, client: { clientId: string }) {
      const grantId = ctx.oidc.params?.grant_id as string | undefined;
      if (value === undefined) {
        if (grantId !== undefined) throw new errors.InvalidRequest('grant_id requires grant_management_action merge or replace');
        return;
      }
      if (!GRANT_MANAGEMENT_ACTIONS.includes(value as GrantManagementAction)) {
        throw new errors.InvalidRequest(`grant_management_action must be one of ${GRANT_MANAGEMENT_ACTIONS.join(', ')}`);
      }
      if (value === 'create') {
        if (grantId !== undefined) throw new errors.InvalidRequest('grant_id is not allowed with grant_management_action create');
        return;
      }
      if (grantId === undefined) throw new errors.InvalidRequest(`grant_management_action ${value} requires grant_id`);
      const grant = await ctx.oidc.provider.Grant.find(grantId);
      if (grant?.clientId !== client.clientId) throw new InvalidGrantId();
    },
  };
}
