import { BgError } from './bg-error.ts';
import { type BgResource, type ScaApproach, startedAuthorisationLinks } from './bg-links.ts';
import type { ConsentState } from './bg-model.ts';
import { type BgScaStatus, bgScaStatusOf } from './bg-status.ts';

/**
 * The authorisation sub-resources of a consent or a payment (POST/GET .../authorisations, GET
 * .../authorisations/{authorisationId}), the same for both: the bodies of the file's startScaprocessResponse,
 * authorisations and scaStatusResponse.
 */

/**
 * Whether another authorisation may be started: only while the consent awaits the customer's decision
 * (STATUS_INVALID, 409: "The addressed resource does not allow additional authorisation").
 */
export function assertAuthorisable(consent: Pick<ConsentState, 'status'>): void {
  if (consent.status !== 'AwaitingAuthorisation')
    throw BgError.of('STATUS_INVALID', 'the resource is no longer awaiting authorisation and allows no additional authorisation');
}

/** POST .../authorisations 201: the new sub-resource, where to go (REDIRECT) and where to poll. */
export function authorisationStartedBody(
  consent: ConsentState,
  resource: BgResource,
  authorisationId: string,
  approach: ScaApproach,
  issuer: string,
) {
  const authorisation = consent.authorisations.find((candidate) => candidate.id === authorisationId);
  if (!authorisation) throw new Error(`authorisation ${authorisationId} is not one of the consent's`);
  return {
    scaStatus: bgScaStatusOf(consent, authorisation),
    authorisationId,
    _links: startedAuthorisationLinks(resource, authorisationId, approach, issuer),
  };
}

/** GET .../authorisations: the ids of every authorisation started, oldest first. */
export function authorisationListBody(consent: { authorisations: readonly { id: string }[] }): { authorisationIds: string[] } {
  return { authorisationIds: consent.authorisations.map((authorisation) => authorisation.id) };
}

/** GET .../authorisations/{authorisationId}: its scaStatus, or RESOURCE_UNKNOWN (404) for an id not of this resource. */
export function scaStatusBody(consent: ConsentState, authorisationId: string): { scaStatus: BgScaStatus } {
  const authorisation = consent.authorisations.find((candidate) => candidate.id === authorisationId);
  if (!authorisation)
    throw BgError.of('RESOURCE_UNKNOWN', 'no such authorisation of this resource', { addressed: 'path', path: 'authorisationId' });
  return { scaStatus: bgScaStatusOf(consent, authorisation) };
}
