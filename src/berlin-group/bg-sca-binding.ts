import { BindingRefused } from '../consents/consent-errors.ts';
import type { Consent } from '../consents/consent.ts';
import type { ConsentType } from '../protocol/consent-types.ts';
import type { Psd2Role } from '../protocol/route-row.ts';
import type { EidasRole } from '../tpp/eidas-identity.ts';

/**
 * The Berlin Group OAuth2 SCA approach's binding (NextGenPSD2 v1.3.x, "OAuth2 as SCA approach"): the
 * TPP's authorization request names the consent by scope `AIS:<consentId>` (a payment by
 * `PIS:<paymentId>`, scaOAuthScope in bg-links.ts), or by authorization_details `{type, consent_id}`,
 * and Assent's FAPI flow is the authorisation. What may be bound, for a TPP known by its eIDAS
 * certificate (oidc/consent-binding-hooks.ts asks): only its own Berlin Group consent of the service's
 * type, still awaiting the customer (no UK re-authentication here) and not expired, by a certificate
 * that carries the service's PSD2 role now, with the redirect_uri exactly the consent's TPP-Redirect-URI.
 */

export type ScaService = 'AIS' | 'PIS';

/** What each service binds: its consent type (payments are domestic_payment consents with a SEPA scheme) and role. */
const SERVICES: Record<ScaService, { type: ConsentType; role: Psd2Role }> = {
  AIS: { type: 'account_access', role: 'PSP_AI' },
  PIS: { type: 'domestic_payment', role: 'PSP_PI' },
};

const ROLE_OF_TYPE: Partial<Record<ConsentType, Psd2Role>> = Object.fromEntries(
  Object.values(SERVICES).map((service) => [service.type, service.role]),
);

export interface ScaScope {
  service: ScaService;
  consentId: string;
  type: ConsentType;
}

const SCA_SCOPE = /^(AIS|PIS):(.*)$/;

/** The consent the request's scope names, if any; two such scopes, or an empty id, are refused. */
export function scaScopeOf(scope: string): ScaScope | undefined {
  const named = scope
    .split(' ')
    .map((token) => SCA_SCOPE.exec(token))
    .filter((match) => match !== null);
  if (named.length > 1)
    throw new BindingRefused('an authorization request binds exactly one consent: one AIS:<consentId> or PIS:<paymentId> scope');
  const [match] = named;
  if (!match) return undefined;
  const service = match[1] as ScaService;
  if (match[2] === '') throw new BindingRefused(`the ${service}: scope names no ${service === 'AIS' ? 'consent' : 'payment'}`);
  return { service, consentId: match[2]!, type: SERVICES[service].type };
}

/** Whether a scope parameter carries an SCA scope, however well formed. */
export function hasScaScope(scope: string): boolean {
  return scope.split(' ').some((token) => SCA_SCOPE.test(token));
}

export interface ScaRequest {
  /** The consent type the request names it as (by the scope's service or the details' type), if it does. */
  type: ConsentType | undefined;
  redirectUri: unknown;
  /**
   * The PSD2 roles of the certificate the TPP presents (none when it does not pass the eIDAS checks now);
   * undefined where the request is not the TPP's own (the customer's browser at the authorization
   * endpoint, carrying what the TPP pushed moments before).
   */
  roles: readonly EidasRole[] | undefined;
}

/**
 * Refuses what the customer must never be shown for this TPP (`consent` is the TPP's own, or undefined):
 * each refusal names what is wrong, and nothing is written.
 */
export function checkScaBinding(consent: Consent | undefined, request: ScaRequest, now = new Date()): asserts consent is Consent {
  if (!consent) throw new BindingRefused('unknown consent');
  if (consent.standard !== 'berlin_group') throw new BindingRefused('the consent is not a Berlin Group consent');
  if (request.type !== undefined && consent.type !== request.type)
    throw new BindingRefused(`the consent is not of the kind its scope or type names`);
  const role = ROLE_OF_TYPE[consent.type];
  if (!role) throw new BindingRefused(`a ${consent.type} consent has no Berlin Group authorisation`);
  if (consent.status !== 'AwaitingAuthorisation') throw new BindingRefused(`the consent is ${consent.status}, not awaiting authorisation`);
  if (consent.expiresAt !== null && consent.expiresAt <= now) throw new BindingRefused('the consent has expired');
  if (request.roles && !request.roles.includes(role)) throw new BindingRefused(`the certificate does not carry the PSD2 role ${role}`);
  if (consent.redirectUri === null || request.redirectUri !== consent.redirectUri) {
    throw new BindingRefused("redirect_uri must be exactly the consent's TPP-Redirect-URI");
  }
}
