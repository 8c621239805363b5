import type { Provider } from 'oidc-provider';
import type { Consent } from '../consents/consent.ts';
import { consentsOfGrant, revokeConsentsOfGrant } from '../consents/consent-service.ts';
import type { Db } from '../db/connect.ts';
import { AssentError } from '../protocol/assent-error.ts';
import { consentClaims } from '../oidc/consent-token-hooks.ts';

/** Grant Management's two operations on one of the client's own grants. */

export class GrantNotFound extends AssentError {
  override name = 'GrantNotFound';
  constructor() {
    super('grant_not_found', 'no such grant', { status: 404 });
  }
}

interface StoredGrant {
  clientId?: string;
  openid?: { scope?: string; claims?: string[] };
  resources?: Record<string, string>;
  rar?: Record<string, unknown>[];
}

/** The client's own grant; another client's answers as one that does not exist. */
async function ownGrant(provider: Provider, clientId: string, grantId: string): Promise<StoredGrant> {
  const grant = grantId.length <= 256 ? ((await provider.Grant.find(grantId)) as StoredGrant | undefined) : undefined;
  if (!grant || grant.clientId !== clientId) throw new GrantNotFound();
  return grant;
}

export interface GrantDescription {
  scopes: { scope: string; resource?: string[] }[];
  claims: string[];
  authorization_details: Record<string, unknown>[];
  /** Assent's addition: the consents the grant holds, as introspection describes them. */
  consents: ReturnType<typeof consentClaims>[];
}

/** What the grant holds now: its scopes (per resource), claims, authorization details and consents. */
export async function describeGrant(provider: Provider, db: Db, clientId: string, grantId: string): Promise<GrantDescription> {
  const grant = await ownGrant(provider, clientId, grantId);
  const scopes = [
    ...(grant.openid?.scope ? [{ scope: grant.openid.scope }] : []),
    ...Object.entries(grant.resources ?? {}).map(([resource, scope]) => ({ scope, resource: [resource] })),
  ];
  // A consent that ended (revoked, replaced, expired, consumed) has left the grant: its row keeps the grant id as history.
  const consents: Consent[] = (await consentsOfGrant(db, clientId, grantId)).filter((consent) => consent.status === 'Authorised');
  return {
    scopes,
    claims: grant.openid?.claims ?? [],
    authorization_details: grant.rar ?? [],
    consents: consents.map((consent) => consentClaims(consent)),
  };
}

/**
 * Revokes the grant: every live consent in it is revoked (each emits its events), and the grant dies
 * with all its tokens, in one transaction.
 */
export async function revokeGrant(provider: Provider, db: Db, clientId: string, grantId: string): Promise<void> {
  await ownGrant(provider, clientId, grantId);
  await revokeConsentsOfGrant(db, { grantId, clientId, reason: 'grant revoked by the TPP (grant management)' });
}
