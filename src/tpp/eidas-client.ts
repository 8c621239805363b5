import type { ClientMetadata } from 'oidc-provider';
import type { Db } from '../db/connect.ts';
import { SCOPE } from '../protocol/scopes.ts';
import { saveClient } from '../store/clients.ts';
import type { EidasTpp } from './eidas-identity.ts';

/**
 * The oidc-provider client of a TPP known by its eIDAS certificate, so that it can run the Berlin Group
 * OAuth2 SCA approach (Assent's FAPI 2.0 flow) without registering. It is made with the TPP's row, on
 * first contact (tpp/eidas-tpp.ts), in the same transaction: a TPP can only hold a consent to authorise
 * after a first contact, and making it then keeps the PAR and token endpoints free of writes. The stored
 * client is validated by oidc-provider on every load and cached like any other (store/client-cache.ts:
 * this write notifies), and its standing is the `tpp` row's (a suspended TPP's client does not exist
 * for the provider).
 *
 * What it says:
 * - client_id is the organizationIdentifier; it authenticates with its QWAC (tls_client_auth). The
 *   registered subject DN names only the organizationIdentifier: for this kind the provider matches the
 *   certificate by that attribute against the eIDAS trust (oidc/eidas-client-auth.ts), not by the whole
 *   DN, so a renewed certificate of the same organisation still authenticates.
 * - tokens are bound to that certificate (RFC 8705), PAR is required (FAPI 2.0, PKCE by the profile).
 * - no redirect_uris: each consent carries its TPP-Redirect-URI, and the authorization of that consent
 *   accepts exactly it (oidc/consent-binding-hooks.ts); an authorization request that binds none of its
 *   Berlin Group consents is refused, so no URI is ever accepted without one.
 * - only `openid` among the static scopes: the consent comes by `AIS:<consentId>` / `PIS:<paymentId>`
 *   or authorization_details, never by the UK scopes.
 */
export function eidasClientMetadata(tpp: Pick<EidasTpp, 'organizationId' | 'name'>): ClientMetadata {
  return {
    client_id: tpp.organizationId,
    client_name: tpp.name,
    client_kind: 'eidas_tpp',
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    redirect_uris: [],
    require_pushed_authorization_requests: true,
    scope: SCOPE.openid,
    token_endpoint_auth_method: 'tls_client_auth',
    tls_client_auth_subject_dn: `${ORGANIZATION_IDENTIFIER_OID}=${tpp.organizationId}`,
    tls_client_certificate_bound_access_tokens: true,
  };
}

/** organizationIdentifier (ETSI EN 319 412-1), written as its OID in the registered DN (RFC 4514). */
const ORGANIZATION_IDENTIFIER_OID = '2.5.4.97';

/** Makes the TPP's client, in the caller's transaction (its first contact). */
export function saveEidasClient(trx: Db, tpp: Pick<EidasTpp, 'organizationId' | 'name'>): Promise<void> {
  return saveClient(trx, eidasClientMetadata(tpp));
}
