import { OAUTH_METADATA_PATH } from '../protocol/routes.ts';
import { BgError, type BgHref } from './bg-error.ts';
import type { BgHeaders } from './bg-headers.ts';
import type { PaymentProduct } from './bg-payment-request.ts';

/**
 * Where the TPP goes next: the SCA approach a request gets, and the `_links` of the Berlin Group answers
 * (NextGenPSD2 OpenAPI file v1.3.11, _linksConsents / _linksPaymentInitiation / _linksStartScaProcess).
 *
 * REDIRECT is the OAuth2 SCA approach: `scaOAuth` is "the URI where the configuration of the Authorisation
 * Server can be retrieved. The configuration follows the OAuth 2.0 Authorisation Server Metadata
 * specification", i.e. Assent's RFC 8414 document; the TPP then runs Assent's FAPI flow asking for the scope
 * `AIS:<consentId>` or `PIS:<paymentId>` (scaOAuthScope). The file's ASPSP-SCA-Approach header says REDIRECT
 * for it ("The OAuth SCA approach will be subsumed by REDIRECT"). DECOUPLED pushes the authorisation to the
 * customer's authentication device (the CIBA device of Assent); there is no link to follow, only `scaStatus`
 * to poll. The embedded approach is out of scope.
 */

export type ScaApproach = 'REDIRECT' | 'DECOUPLED';

/** What the bank offers beyond REDIRECT, which it always does. */
export interface ScaCapabilities {
  decoupled: boolean;
}

/**
 * The approach of a request, from the TPP's preferences (the file: TPP-Redirect-Preferred "false", the TPP
 * "prefers not to be redirected"; TPP-Decoupled-Preferred "true", it "prefers a decoupled SCA approach"; "If
 * both ... are present and true ... it is up to the ASPSP"): DECOUPLED when the TPP asks for it or declines
 * a redirect, the bank offers it and PSU-ID names the customer whose device is asked; REDIRECT otherwise, and
 * then TPP-Redirect-URI is required (the file: "Mandated for the Redirect SCA Approach (including OAuth2 SCA
 * approach)"): the authorization of the consent accepts exactly that URI.
 */
export function chooseScaApproach(headers: BgHeaders, capabilities: ScaCapabilities): ScaApproach {
  const wantsDecoupled = headers.tppDecoupledPreferred === true || headers.tppRedirectPreferred === false;
  if (wantsDecoupled && capabilities.decoupled && headers.psuId !== null) return 'DECOUPLED';
  if (headers.tppRedirectUri === null) {
    const why = wantsDecoupled ? (capabilities.decoupled ? ' (decoupled needs PSU-ID)' : ' (this bank offers no decoupled SCA)') : '';
    throw BgError.of('FORMAT_ERROR', `TPP-Redirect-URI is required for the redirect SCA approach${why}`, { path: 'TPP-Redirect-URI' });
  }
  return 'REDIRECT';
}

/** The OAuth2 SCA approach's scope binding the authorization to one consent or payment. */
export function scaOAuthScope(service: 'AIS' | 'PIS', id: string): string {
  return `${service}:${id}`;
}

/** Assent's RFC 8414 metadata document, the `scaOAuth` link. */
export function scaOAuthHref(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}${OAUTH_METADATA_PATH}`;
}

/** A consent's or a payment's resource path, its ids encoded. */
export type BgResource = { service: 'AIS'; consentId: string } | { service: 'PIS'; product: PaymentProduct; paymentId: string };

export function resourcePath(resource: BgResource): string {
  return resource.service === 'AIS'
    ? `/v1/consents/${encodeURIComponent(resource.consentId)}`
    : `/v1/payments/${resource.product}/${encodeURIComponent(resource.paymentId)}`;
}

export function authorisationsPath(resource: BgResource): string {
  return `${resourcePath(resource)}/authorisations`;
}

export function authorisationPath(resource: BgResource, authorisationId: string): string {
  return `${authorisationsPath(resource)}/${encodeURIComponent(authorisationId)}`;
}

const href = (value: string): BgHref => ({ href: value });

/** How a created consent or payment is to be authorised. */
export type AuthorisationStart =
  /** TPP-Explicit-Authorisation-Preferred: the TPP starts the authorisation itself (POST .../authorisations). */
  | { explicit: true }
  /**
   * An authorisation was created with the resource (implicit start), in this approach; authorisationId null
   * when no sub-resource tracks it (the OAuth2 SCA approach: the authorisation is the OAuth flow itself).
   */
  | { explicit: false; approach: ScaApproach; authorisationId: string | null };

/**
 * The `_links` of a created consent or payment: self, status, and either startAuthorisation (explicit) or
 * the started authorisation's scaStatus with, for REDIRECT, scaOAuth.
 */
export function createdLinks(resource: BgResource, start: AuthorisationStart, issuer: string): Record<string, BgHref> {
  const links: Record<string, BgHref> = {};
  if (start.explicit) links.startAuthorisation = href(authorisationsPath(resource));
  else {
    if (start.approach === 'REDIRECT') links.scaOAuth = href(scaOAuthHref(issuer));
    if (start.authorisationId !== null) links.scaStatus = href(authorisationPath(resource, start.authorisationId));
  }
  links.self = href(resourcePath(resource));
  links.status = href(`${resourcePath(resource)}/status`);
  return links;
}

/** The `_links` of an authorisation sub-resource just started (POST .../authorisations). */
export function startedAuthorisationLinks(
  resource: BgResource,
  authorisationId: string,
  approach: ScaApproach,
  issuer: string,
): Record<string, BgHref> {
  return {
    ...(approach === 'REDIRECT' && { scaOAuth: href(scaOAuthHref(issuer)) }),
    scaStatus: href(authorisationPath(resource, authorisationId)),
  };
}

/** The response header naming the approach taken. */
export function scaApproachHeader(approach: ScaApproach): Record<'ASPSP-SCA-Approach', ScaApproach> {
  return { 'ASPSP-SCA-Approach': approach };
}
