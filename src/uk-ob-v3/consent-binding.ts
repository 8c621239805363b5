import type { Db } from '../db/connect.ts';
import { BindingRefused } from '../consents/consent-errors.ts';
import { AUTHORIZATION_DETAILS_TYPES, type ConsentType, DETAILS_TYPE_OF, INTENT_CLAIM } from '../protocol/consent-types.ts';
import { CONSENT_SCOPES, SCOPE_OF } from '../protocol/scopes.ts';
import type { Consent } from '../consents/consent.ts';
import { canReauthorise } from '../consents/consent-status.ts';
import { createConsent, getConsentForClient, getConsentOfInteraction } from '../consents/consent-service.ts';
import { parseConsentRequest } from './consent-request.ts';

/**
 * How an authorization request names the consent it asks the customer to authorise: the UK OB
 * `claims.id_token.openbanking_intent_id` (essential, value = ConsentId) or one RFC 9396
 * `authorization_details` entry carrying a `consent_id` or, with none, the consent itself.
 */

export type ConsentBinding =
  { kind: 'consent'; consentId: string; type?: ConsentType } | { kind: 'details'; type: ConsentType; detail: Record<string, unknown> };

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The intent id of a parsed claims parameter; undefined when it names none. */
export function intentIdOfClaims(claims: unknown): string | undefined {
  if (!isObject(claims) || !isObject(claims.id_token) || claims.id_token[INTENT_CLAIM] === undefined) return undefined;
  const request = claims.id_token[INTENT_CLAIM];
  if (!isObject(request) || typeof request.value !== 'string' || request.essential !== true) {
    throw new BindingRefused(`claims.id_token.${INTENT_CLAIM} must be {"value": "<ConsentId>", "essential": true}`);
  }
  return request.value;
}

/** Reads one authorization_details entry of a consent type into a binding; refuses anything malformed. */
export function bindingOfDetail(detail: Record<string, unknown>): ConsentBinding {
  const type = AUTHORIZATION_DETAILS_TYPES[String(detail.type)];
  if (!type) throw new BindingRefused(`unsupported authorization_details type ${String(detail.type)}`);
  const { type: _type, consent_id: consentId, ...request } = detail;
  if (consentId === undefined) {
    const { Risk: risk, ...data } = request;
    const parsed = parseConsentRequest(type, { Data: data, Risk: risk ?? {} });
    if (!parsed.ok) throw new BindingRefused(parsed.problems.map((p) => `${p.path}: ${p.message}`).join('; '));
    return { kind: 'details', type, detail };
  }
  if (typeof consentId !== 'string') throw new BindingRefused('consent_id must be a string');
  if (Object.keys(request).length > 0)
    throw new BindingRefused('an authorization_details entry carries either consent_id or the consent, not both');
  return { kind: 'consent', consentId, type };
}

/** Parameters arrive as JSON strings at the endpoints and as objects in stored interactions. */
function parse(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch (cause) {
    throw new BindingRefused('claims and authorization_details must be valid JSON', { cause });
  }
}

/** The binding of an authorization request's claims and authorization_details parameters. */
export function bindingOfRequest(params: { claims?: unknown; authorization_details?: unknown }): ConsentBinding | undefined {
  const intentId = intentIdOfClaims(parse(params.claims));
  const details = params.authorization_details === undefined ? [] : parse(params.authorization_details);
  if (!Array.isArray(details)) throw new BindingRefused('authorization_details must be an array');
  const consentDetails = details.filter((detail) => isObject(detail) && Object.hasOwn(AUTHORIZATION_DETAILS_TYPES, String(detail.type)));
  if (consentDetails.length > 1 || (intentId !== undefined && consentDetails.length > 0)) {
    throw new BindingRefused('an authorization request binds exactly one consent');
  }
  if (intentId !== undefined) return { kind: 'consent', consentId: intentId };
  return consentDetails[0] && bindingOfDetail(consentDetails[0] as Record<string, unknown>);
}

/**
 * Refuses a binding the customer must never see: an unknown consent or another TPP's (the same
 * answer), one of another type, one no longer AwaitingAuthorisation (unless it may be re-authorised),
 * an expired one, one whose scope the request does not ask for, or a request that also asks for
 * another consent type's scope.
 */
export async function checkBinding(db: Db, clientId: string, binding: ConsentBinding, requestedScope: string): Promise<void> {
  const scopes = new Set(requestedScope.split(' '));
  let type = binding.type;
  if (binding.kind === 'consent') {
    const consent = await getConsentForClient(db, clientId, binding.consentId);
    // Another dialect's consent is bound by that dialect's rules (a Berlin Group one by its eIDAS TPP).
    if (!consent || consent.standard === 'berlin_group') throw new BindingRefused('unknown consent');
    if (type !== undefined && consent.type !== type) throw new BindingRefused(`the consent is not of type ${DETAILS_TYPE_OF[type]}`);
    // An Authorised account-access consent may be bound again: UK OB re-authentication.
    if (consent.status !== 'AwaitingAuthorisation' && !canReauthorise(consent.type, consent.status)) {
      throw new BindingRefused(`the consent is ${consent.status}, not AwaitingAuthorisation`);
    }
    if (consent.expiresAt !== null && consent.expiresAt <= new Date()) throw new BindingRefused('the consent has expired');
    type = consent.type;
  }
  const needed = SCOPE_OF[type!];
  if (!scopes.has(needed)) throw new BindingRefused(`binding this consent requires the ${needed} scope`);
  // The grant takes every scope the request asks for, and the customer sees only this consent: another
  // consent type's scope would reach the token unseen.
  const unseen = CONSENT_SCOPES.filter((scope) => scope !== needed && scopes.has(scope));
  if (unseen.length > 0)
    throw new BindingRefused(`a request binding this consent asks for no Open Banking scope but ${needed} (not ${unseen.join(', ')})`);
}

type BoundInteraction = { cid: string; params: Record<string, unknown> };

/**
 * The consent an authorization asks the customer about, if it exists yet; reads only (GETs never
 * write). `binding` is how the request names it (by default as this dialect reads it). A consent from authorization_details is keyed by the interaction chain id (`cid`), which the
 * sign-in and consent interactions of one authorization share.
 */
export async function consentOfInteraction(
  db: Db,
  interaction: BoundInteraction,
  binding = bindingOfRequest(interaction.params),
): Promise<Consent | undefined> {
  const clientId = String(interaction.params.client_id);
  if (!binding) return undefined;
  if (binding.kind === 'consent') return getConsentForClient(db, clientId, binding.consentId);
  return getConsentOfInteraction(db, clientId, interaction.cid);
}

/**
 * authorization_details without a consent_id become the consent here, once per authorization (a
 * repeat, even a concurrent one, returns the consent created first). Called from the customer's
 * first form post (the password), so the code page can already show the payment.
 */
export async function draftConsentOfInteraction(db: Db, interaction: BoundInteraction): Promise<Consent | undefined> {
  const binding = bindingOfRequest(interaction.params);
  if (binding?.kind !== 'details') return consentOfInteraction(db, interaction);
  const clientId = String(interaction.params.client_id);
  const existing = await getConsentOfInteraction(db, clientId, interaction.cid);
  if (existing) return existing;
  const { Risk: risk, type: _type, ...data } = binding.detail;
  const parsed = parseConsentRequest(binding.type, { Data: data, Risk: risk ?? {} });
  if (!parsed.ok) throw new BindingRefused('the authorization_details no longer describe a valid consent');
  return (await createConsent(db, { clientId, draft: parsed.draft, interactionUid: interaction.cid })).consent;
}
